"""Revenue KPIs checked against hand calculations and an independent pivot-table method."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cs_sim.errors import CsSimError
from cs_sim.kpis import (
    KpiInputError,
    attach,
    cohort_retention,
    mrr_bridge,
    mrr_by_month,
    quick_ratio,
    retention_by_month,
    revenue_retention,
    scale_churn_rate,
)

M = pd.Timestamp


def hand_mrr() -> pd.DataFrame:
    """Five accounts over Jan-Apr 2024 (missing rows mean MRR 0).

    ======= ==== ==== ==== ====
    account Jan  Feb  Mar  Apr
    ======= ==== ==== ==== ====
    A       100  120  120   90   expansion Feb +20, contraction Apr -30
    B        50   50    0    -   churn Mar (explicit 0 row), no row in Apr
    C         -   80   80   80   new Feb
    D        30    -    -   40   churn Feb, reactivation Apr
    E         -    -    -   25   new Apr
    total   180  250  200  235
    ======= ==== ==== ==== ====
    """
    rows = [
        ("A", "2024-01", 100), ("A", "2024-02", 120), ("A", "2024-03", 120), ("A", "2024-04", 90),
        ("B", "2024-01", 50), ("B", "2024-02", 50), ("B", "2024-03", 0),
        ("C", "2024-02", 80), ("C", "2024-03", 80), ("C", "2024-04", 80),
        ("D", "2024-01", 30), ("D", "2024-04", 40),
        ("E", "2024-04", 25),
    ]
    df = pd.DataFrame(rows, columns=["account_id", "month", "mrr"])
    df["month"] = pd.to_datetime(df["month"]).astype("datetime64[ns]")
    df["mrr"] = df["mrr"].astype(float)
    return df


def hand_accounts() -> pd.DataFrame:
    return pd.DataFrame({"account_id": list("ABCDE"),
                         "plan": ["pro", "basic", "pro", "basic", "basic"]})


# --------------------------------------------------------------------------- bridge
def test_bridge_hand_calculation() -> None:
    b = mrr_bridge(hand_mrr()).set_index("month")
    assert list(b.index) == [M("2024-02-01"), M("2024-03-01"), M("2024-04-01")]
    # Feb: start 180; new C 80; expansion A +20; churned D 30 -> 180+80+20-30 = 250
    # Mar: start 250; churned B 50 -> 200
    # Apr: start 200; new E 25; reactivation D 40; contraction A 30 -> 200+25+40-30 = 235
    expected = pd.DataFrame(
        {
            "start_mrr": [180.0, 250.0, 200.0],
            "new": [80.0, 0.0, 25.0],
            "expansion": [20.0, 0.0, 0.0],
            "contraction": [0.0, 0.0, 30.0],
            "churned": [30.0, 50.0, 0.0],
            "reactivation": [0.0, 0.0, 40.0],
            "end_mrr": [250.0, 200.0, 235.0],
            # logos: Feb A,B,D -> A,B,C; Mar -> A,C; Apr -> A,C,D,E
            "start_accounts": [3, 3, 2],
            "new_accounts": [1, 0, 1],
            "expansion_accounts": [1, 0, 0],
            "contraction_accounts": [0, 0, 1],
            "churned_accounts": [1, 1, 0],
            "reactivated_accounts": [0, 0, 1],
            "end_accounts": [3, 2, 4],
        },
        index=b.index,
    )
    pd.testing.assert_frame_equal(b[expected.columns], expected, check_dtype=False)
    assert b["start_accounts"].dtype == np.int64
    assert b.index.dtype == "datetime64[ns]"


def test_bridge_gap_month_is_filled() -> None:
    # No row at all in Feb: everyone has MRR 0 then; A and B churn in Feb and come back
    # in Mar (reactivation 100 + 60), B's Mar MRR counted in full as reactivation.
    mrr = pd.DataFrame({
        "account_id": ["A", "B", "A", "B"],
        "month": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-03-01", "2024-03-01"]),
        "mrr": [100.0, 50.0, 100.0, 60.0],
    })
    b = mrr_bridge(mrr).set_index("month")
    assert list(b.index) == [M("2024-02-01"), M("2024-03-01")]
    assert b.loc["2024-02-01", ["start_mrr", "churned", "end_mrr"]].tolist() == [150, 150, 0]
    assert b.loc["2024-03-01", ["start_mrr", "reactivation", "new", "end_mrr"]].tolist() == [
        0, 160, 0, 160]
    assert b.loc["2024-03-01", "reactivated_accounts"] == 2


def test_bridge_single_month_is_empty_and_first_month_is_opening_balance() -> None:
    mrr = hand_mrr()
    one = mrr_bridge(mrr[mrr["month"] == "2024-01-01"])
    assert len(one) == 0 and "end_mrr" in one.columns
    # the first month's accounts are not "new": the bridge starts with them as balance
    assert mrr_bridge(mrr)["new"].iloc[0] == 80.0


def test_bridge_by_segment_hand_and_sums_to_total() -> None:
    mrr = attach(hand_mrr(), hand_accounts(), "plan")
    b = mrr_bridge(mrr, by="plan")
    assert list(b.columns[:2]) == ["plan", "month"]
    pro = b[b["plan"] == "pro"].set_index("month")
    basic = b[b["plan"] == "basic"].set_index("month")
    # pro = A + C: Jan 100, Feb 200 (new C 80, exp 20), Mar 200, Apr 170 (contraction 30)
    assert pro["end_mrr"].tolist() == [200.0, 200.0, 170.0]
    assert pro["new"].tolist() == [80.0, 0.0, 0.0]
    # basic = B + D + E: Jan 80, Feb 50 (D churns), Mar 0 (B churns), Apr 65 (E new, D back)
    assert basic["end_mrr"].tolist() == [50.0, 0.0, 65.0]
    assert basic["reactivation"].tolist() == [0.0, 0.0, 40.0]
    # second method: segment bridges add up to the total bridge
    total = mrr_bridge(hand_mrr()).set_index("month")
    summed = b.drop(columns="plan").groupby("month").sum()
    pd.testing.assert_frame_equal(summed[total.columns], total, check_dtype=False)


def test_bridge_segment_must_be_static() -> None:
    mrr = hand_mrr()
    mrr["seg"] = "x"
    mrr.loc[0, "seg"] = "y"  # A is 'y' in Jan, 'x' later
    with pytest.raises(KpiInputError, match="changes over time"):
        mrr_bridge(mrr, by="seg")
    # mrr_by_month uses each row's own value and accepts it
    out = mrr_by_month(mrr, by="seg")
    assert out.loc[(out["seg"] == "y") & (out["month"] == "2024-01-01"), "mrr"].item() == 100


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.drop(columns="mrr"), "missing column"),
        (lambda d: d.assign(mrr=d["mrr"].where(d.index != 2, -5.0)), "must be >= 0"),
        (lambda d: d.assign(mrr=d["mrr"].where(d.index != 2, np.nan)), "missing value"),
        (lambda d: pd.concat([d, d.iloc[[0]]]), "must be unique"),
        (lambda d: d.iloc[:0], "empty"),
    ],
)
def test_bridge_bad_input(mutate, message) -> None:
    with pytest.raises(CsSimError, match=message):
        mrr_bridge(mutate(hand_mrr()))


def test_bridge_by_missing_column_names_attach() -> None:
    with pytest.raises(ValueError, match="attach"):
        mrr_bridge(hand_mrr(), by="plan")


def test_bridge_identity_is_exact_on_cents() -> None:
    # amounts with cents: float sums would drift; the bridge works on integer units
    rng = np.random.default_rng(7)
    mrr = random_mrr(rng, n_accounts=60, n_months=15)
    mrr["mrr"] = np.round(mrr["mrr"] + 0.01 * rng.integers(0, 100, len(mrr)), 2)
    b = mrr_bridge(mrr)
    lhs = b["start_mrr"] + b["new"] + b["expansion"] + b["reactivation"] - b["contraction"] - \
        b["churned"]
    np.testing.assert_allclose(lhs, b["end_mrr"], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(b["end_mrr"].to_numpy()[:-1], b["start_mrr"].to_numpy()[1:])
    # end_mrr equals an independent groupby total of the input
    totals = mrr.groupby("month")["mrr"].sum()
    np.testing.assert_allclose(b.set_index("month")["end_mrr"], totals.iloc[1:], atol=1e-9)


# --------------------------------------------------------------------------- mrr by month
def test_mrr_by_month_hand() -> None:
    out = mrr_by_month(hand_mrr())
    # Jan 180 / 3 accounts = 60; Feb 250 / 3; Mar 200 / 2 (B has an explicit 0); Apr 235 / 4
    assert out["mrr"].tolist() == [180.0, 250.0, 200.0, 235.0]
    assert out["active_accounts"].tolist() == [3, 3, 2, 4]
    np.testing.assert_allclose(out["arpa"], [60.0, 250 / 3, 100.0, 58.75])
    np.testing.assert_allclose(out["arr"], 12 * out["mrr"])


def test_mrr_by_month_by_segment_fills_gaps() -> None:
    out = mrr_by_month(attach(hand_mrr(), hand_accounts(), "plan"), by="plan")
    basic = out[out["plan"] == "basic"]
    assert basic["mrr"].tolist() == [80.0, 50.0, 0.0, 65.0]
    assert basic["active_accounts"].tolist() == [2, 1, 0, 2]
    assert np.isnan(basic["arpa"].iloc[2])  # no active account: ARPA undefined


# --------------------------------------------------------------------------- retention
def test_revenue_retention_hand() -> None:
    r = revenue_retention(hand_mrr(), start="2024-01", end="2024-04").iloc[0]
    # cohort at Jan: A 100, B 50, D 30 (180). At Apr: A 90, B 0, D 40 -> 130
    assert r["start_accounts"] == 3
    assert r["start_mrr"] == 180.0
    assert r["nrr"] == pytest.approx(130 / 180)
    # GRR: min(90,100) + min(0,50) + min(40,30) = 120 -> 120/180
    assert r["grr"] == pytest.approx(120 / 180)
    assert r["gross_mrr_churn_rate"] == pytest.approx(60 / 180)
    assert r["net_mrr_churn_rate"] == pytest.approx(50 / 180)
    # only B is inactive at Apr (D came back)
    assert r["logo_churn_rate"] == pytest.approx(1 / 3)
    # Feb..Apr: new 80 + 25, expansion 20; contraction 30, churned 30 + 50
    assert r["quick_ratio"] == pytest.approx(125 / 110)


def test_revenue_retention_window_checks() -> None:
    with pytest.raises(KpiInputError, match="after start"):
        revenue_retention(hand_mrr(), start="2024-03", end="2024-02")
    with pytest.raises(KpiInputError, match="outside"):
        revenue_retention(hand_mrr(), start="2023-12", end="2024-02")


def test_retention_by_month_hand() -> None:
    monthly = retention_by_month(hand_mrr()).set_index("month")
    # Feb vs Jan: cohort A,B,D (180) -> 120+50+0 = 170; capped 100+50+0 = 150
    assert monthly.loc["2024-02-01", "nrr"] == pytest.approx(170 / 180)
    assert monthly.loc["2024-02-01", "grr"] == pytest.approx(150 / 180)
    assert monthly.loc["2024-02-01", "logo_churn_rate"] == pytest.approx(1 / 3)
    two = retention_by_month(hand_mrr(), window_months=2).set_index("month")
    # window Feb -> Apr: cohort A,B,C (250) -> 90+0+80 = 170, capped the same
    assert list(two.index) == [M("2024-03-01"), M("2024-04-01")]
    assert two.loc["2024-04-01", "nrr"] == pytest.approx(170 / 250)
    assert two.loc["2024-04-01", "grr"] == pytest.approx(170 / 250)
    assert two.loc["2024-04-01", "start_month"] == M("2024-02-01")


def pivot_retention(mrr: pd.DataFrame, window: int) -> pd.DataFrame:
    """Independent implementation with a pivot table and explicit loops."""
    months = pd.date_range(mrr["month"].min(), mrr["month"].max(), freq="MS")
    wide = mrr.pivot(index="account_id", columns="month", values="mrr").reindex(
        columns=months).fillna(0.0)
    rows = []
    for j in range(window, len(months)):
        s, e = wide[months[j - window]], wide[months[j]]
        cohort = s > 0
        start = s[cohort].sum()
        rows.append({
            "month": months[j],
            "nrr": e[cohort].sum() / start if start else np.nan,
            "grr": np.minimum(e[cohort], s[cohort]).sum() / start if start else np.nan,
            "logo_churn_rate": (e[cohort] == 0).mean() if cohort.any() else np.nan,
        })
    return pd.DataFrame(rows)


def random_mrr(rng: np.random.Generator, *, n_accounts: int, n_months: int) -> pd.DataFrame:
    months = pd.date_range("2022-01-01", periods=n_months, freq="MS")
    rows = []
    for a in range(n_accounts):
        start = rng.integers(0, n_months)
        level = float(rng.integers(1, 20) * 50)
        for j in range(start, n_months):
            u = rng.random()
            if u < 0.08:
                level = 0.0
            elif u < 0.15:
                level = float(rng.integers(1, 20) * 50)
            elif u < 0.25 and level:
                level = max(level + float(rng.integers(-3, 4) * 10), 0.0)
            if level or rng.random() < 0.3:  # zeros are sometimes explicit rows
                rows.append((f"acc{a:03d}", months[j], level))
    return pd.DataFrame(rows, columns=["account_id", "month", "mrr"])


@pytest.mark.parametrize("window", [1, 3, 12])
def test_retention_by_month_matches_pivot_method(window: int) -> None:
    mrr = random_mrr(np.random.default_rng(window), n_accounts=80, n_months=24)
    ours = retention_by_month(mrr, window_months=window).reset_index(drop=True)
    ref = pivot_retention(mrr, window)
    pd.testing.assert_series_equal(ours["month"], ref["month"].astype("datetime64[ns]"),
                                   check_names=False)
    for col in ("nrr", "grr", "logo_churn_rate"):
        np.testing.assert_allclose(ours[col], ref[col], rtol=1e-12, err_msg=col)
    assert (ours["grr"] <= ours["nrr"] + 1e-12).all()


def test_retention_by_segment_matches_filtered_frames() -> None:
    mrr = random_mrr(np.random.default_rng(3), n_accounts=40, n_months=14)
    mrr["seg"] = np.where(mrr["account_id"].str[-1].astype(int) % 2 == 0, "even", "odd")
    grouped = retention_by_month(mrr, window_months=12, by="seg")
    assert len(grouped) == 2 * (14 - 12)
    for seg, part in mrr.groupby("seg"):
        # the segment alone may span fewer months: compare the months both have
        alone = retention_by_month(part.drop(columns="seg"), window_months=3)
        mine = retention_by_month(mrr, window_months=3, by="seg")
        both = mine[mine["seg"] == seg].merge(alone, on="month", suffixes=("", "_alone"))
        assert len(both) >= 8
        for col in ("nrr", "grr", "logo_churn_rate", "start_mrr"):
            np.testing.assert_allclose(both[col], both[f"{col}_alone"], rtol=1e-12)


# --------------------------------------------------------------------------- quick ratio
def test_quick_ratio_hand() -> None:
    q = quick_ratio(hand_mrr()).set_index("month")["quick_ratio"]
    # Feb (80 + 20) / 30; Mar 0 / 50; Apr (25 + 0) / 30 (reactivation excluded)
    np.testing.assert_allclose(q.to_numpy(), [100 / 30, 0.0, 25 / 30])


def test_quick_ratio_no_losses_is_inf() -> None:
    mrr = pd.DataFrame({"account_id": ["A", "A", "B"],
                        "month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-02-01"]),
                        "mrr": [10.0, 20.0, 5.0]})
    assert np.isinf(quick_ratio(mrr)["quick_ratio"].iloc[0])


# --------------------------------------------------------------------------- churn scaling
def test_scale_churn_rate_vs_month_by_month_loop() -> None:
    monthly = 0.02
    survivors = 1.0
    for _ in range(12):
        survivors *= 1 - monthly
    assert scale_churn_rate(monthly, from_months=1, to_months=12) == pytest.approx(1 - survivors)
    # published rule of thumb: 2% monthly is ~21.5% annual, not 24%
    assert scale_churn_rate(0.02, from_months=1, to_months=12) == pytest.approx(0.2153, abs=1e-4)
    # and back: annual 20% -> monthly, compounding 12 months gives 20% again
    m = scale_churn_rate(0.20, from_months=12, to_months=1)
    assert 1 - (1 - m) ** 12 == pytest.approx(0.20)


def test_scale_churn_rate_shapes_and_errors() -> None:
    s = pd.Series([0.0, 0.1, 1.0], index=["a", "b", "c"])
    out = scale_churn_rate(s, from_months=1, to_months=3)
    assert isinstance(out, pd.Series) and list(out.index) == ["a", "b", "c"]
    np.testing.assert_allclose(out, [0.0, 1 - 0.9**3, 1.0])
    assert isinstance(scale_churn_rate([0.1, 0.2], from_months=1, to_months=1), np.ndarray)
    with pytest.raises(ValueError, match="fractions"):
        scale_churn_rate(2.0, from_months=1, to_months=12)
    with pytest.raises(ValueError, match="> 0"):
        scale_churn_rate(0.1, from_months=0, to_months=12)


# --------------------------------------------------------------------------- cohorts
def test_cohort_retention_hand() -> None:
    logo = cohort_retention(hand_mrr())
    # Jan cohort {A,B,D}: Feb A,B -> 2/3; Mar A -> 1/3; Apr A,D -> 2/3
    np.testing.assert_allclose(logo.loc[M("2024-01-01")].to_numpy(), [1, 2 / 3, 1 / 3, 2 / 3])
    # Feb cohort {C}: always active; one cell past the data's end
    np.testing.assert_allclose(logo.loc[M("2024-02-01")].to_numpy(), [1, 1, 1, np.nan])
    assert list(logo.index) == [M("2024-01-01"), M("2024-02-01"), M("2024-04-01")]
    rev = cohort_retention(hand_mrr(), kind="revenue")
    # Jan cohort MRR 180 -> 170 (Feb), 120 (Mar), 130 (Apr)
    np.testing.assert_allclose(rev.loc[M("2024-01-01")].to_numpy(),
                               [1, 170 / 180, 120 / 180, 130 / 180])


def test_cohort_retention_matches_groupby_method() -> None:
    mrr = random_mrr(np.random.default_rng(11), n_accounts=70, n_months=12)
    months = pd.date_range(mrr["month"].min(), mrr["month"].max(), freq="MS")
    wide = mrr.pivot(index="account_id", columns="month", values="mrr").reindex(
        columns=months).fillna(0.0)
    wide = wide[(wide > 0).any(axis=1)]
    first = (wide > 0).idxmax(axis=1)
    ours_logo = cohort_retention(mrr, kind="logo")
    ours_rev = cohort_retention(mrr, kind="revenue")
    for cohort, members in first.groupby(first):
        sub = wide.loc[members.index]
        j0 = months.get_loc(cohort)
        for k in range(len(months) - j0):
            col = sub[months[j0 + k]]
            assert ours_logo.loc[cohort, k] == pytest.approx((col > 0).mean())
            assert ours_rev.loc[cohort, k] == pytest.approx(col.sum() / sub[cohort].sum())


def test_cohort_retention_by_segment() -> None:
    out = cohort_retention(attach(hand_mrr(), hand_accounts(), "plan"), by="plan")
    assert out.index.names == ["plan", "cohort"]
    # basic Jan cohort {B, D}: Feb B -> 1/2; Mar none -> 0; Apr D -> 1/2
    np.testing.assert_allclose(out.loc[("basic", M("2024-01-01"))].to_numpy(), [1, .5, 0, .5])
    with pytest.raises(KpiInputError, match="kind"):
        cohort_retention(hand_mrr(), kind="logos")  # type: ignore[arg-type]


def test_input_not_modified() -> None:
    mrr = attach(hand_mrr(), hand_accounts(), "plan")
    before = mrr.copy()
    mrr_bridge(mrr, by="plan")
    retention_by_month(mrr, by="plan")
    cohort_retention(mrr, by="plan")
    pd.testing.assert_frame_equal(mrr, before)


def test_attach_joins_and_checks() -> None:
    mrr = hand_mrr()
    out = attach(mrr, hand_accounts(), ["plan"])
    assert out["plan"].tolist()[:4] == ["pro"] * 4 and out.index.equals(mrr.index)
    assert "plan" not in mrr.columns  # input untouched
    unknown = attach(mrr.assign(account_id=mrr["account_id"].replace("E", "Z")),
                     hand_accounts(), "plan")
    assert unknown["plan"].isna().sum() == 1  # an account missing from accounts -> NA
    with pytest.raises(KpiInputError, match="already has"):
        attach(out, hand_accounts(), "plan")
    with pytest.raises(KpiInputError, match="unique"):
        attach(mrr, pd.concat([hand_accounts(), hand_accounts()]), "plan")
    with pytest.raises(KpiInputError, match="missing column"):
        attach(mrr, hand_accounts(), "region")


def test_cohort_retention_by_signup_date() -> None:
    """Cohorts by signup month (hand calculation on the five accounts above).

    Signups: A 2023-11, D 2023-11 (before the data), B 2024-01, C 2024-01 (pays from
    February), E 2024-04. The months before the data (2023-11, 2023-12) are unknown.
    """
    accounts = hand_accounts().assign(signup_date=pd.to_datetime(
        ["2023-11-15", "2024-01-10", "2024-01-20", "2023-11-03", "2024-04-02"]))
    logo = cohort_retention(hand_mrr(), accounts=accounts)
    assert list(logo.index) == [M("2023-11-01"), M("2024-01-01"), M("2024-04-01")]
    nan = np.nan
    # {A, D}: Jan both, Feb A, Mar A, Apr both
    np.testing.assert_allclose(logo.loc[M("2023-11-01")].to_numpy(), [nan, nan, 1, .5, .5, 1])
    # {B, C}: Jan B, Feb both, Mar C, Apr C
    np.testing.assert_allclose(logo.loc[M("2024-01-01")].to_numpy(), [.5, 1, .5, .5, nan, nan])
    np.testing.assert_allclose(logo.loc[M("2024-04-01")].to_numpy(), [1, nan, nan, nan, nan, nan])
    rev = cohort_retention(hand_mrr(), kind="revenue", accounts=accounts)
    # {A, D}: 130 in Jan (the first month with data), 120, 120, 90 + 40 = 130
    np.testing.assert_allclose(rev.loc[M("2023-11-01")].to_numpy(),
                               [nan, nan, 1, 120 / 130, 120 / 130, 1])
    # {B, C}: 50 in Jan, 50 + 80 = 130, 80, 80
    np.testing.assert_allclose(rev.loc[M("2024-01-01")].to_numpy(),
                               [1, 130 / 50, 80 / 50, 80 / 50, nan, nan])
    # without signup dates: the first paid month, as before
    assert list(cohort_retention(hand_mrr(), accounts=hand_accounts()).index) == [
        M("2024-01-01"), M("2024-02-01"), M("2024-04-01")]


def test_duplicate_rows_are_found_by_counting_cells() -> None:
    mrr = hand_mrr()
    dup = pd.concat([mrr, mrr.iloc[[0, 5]]], ignore_index=True)
    with pytest.raises(KpiInputError, match=r"must be unique; 2 repeated row\(s\), e.g. "
                                            r"account\(s\) A, B"):
        mrr_bridge(dup)
    # months given as text take the same path as parsed months
    as_text = mrr.assign(month=mrr["month"].dt.strftime("%Y-%m"))
    pd.testing.assert_frame_equal(mrr_bridge(as_text), mrr_bridge(mrr))
