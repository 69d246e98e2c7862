"""Kaplan-Meier, log-rank, Cox and proportion tests against published results and hand sums.

Data: ``tests/data/rossi.csv`` and ``tests/data/gehan.csv`` (sources and licences in
``tests/data/README.md``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import cs_sim
from cs_sim.errors import ModelInputError
from cs_sim.io import Dataset
from cs_sim.models import account_lifetimes, compare_proportions, cox, kaplan_meier

DATA = Path(__file__).parent / "data"
ROSSI_TERMS = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]


@pytest.fixture(scope="module")
def rossi() -> pd.DataFrame:
    return pd.read_csv(DATA / "rossi.csv")


@pytest.fixture(scope="module")
def gehan() -> pd.DataFrame:
    g = pd.read_csv(DATA / "gehan.csv")
    g["arm"] = g["group"].map({1: "placebo", 2: "6-MP"})
    return g


# ------------------------------------------------------------------------------------ Cox
def test_cox_rossi_matches_fox_2002_efron(rossi: pd.DataFrame) -> None:
    """Fox (2002), "Cox proportional-hazards regression for survival data", Appendix to
    *An R and S-PLUS Companion to Applied Regression*, section 3: ``coxph(Surv(week,
    arrest) ~ fin + age + race + wexp + mar + paro + prio, data=Rossi)`` gives coef
    -0.379, -0.0574, 0.314, -0.150, -0.434, -0.0849, 0.0915 (R's coxph, whose default
    is Efron's method for ties; the appendix text itself could not be opened here, so
    the figures were checked against R's full-precision Efron output as recorded in
    scikit-survival's tests/test_coxph.py, fixture ``coef_rossi_coxph_efron``, commit
    ed05314, which rounds to exactly these numbers, and NOT to the Breslow ones: age
    -0.0572, wexp -0.151, prio 0.0911)."""
    res = cox(rossi, " + ".join(ROSSI_TERMS), duration="week", event="arrest")
    published = pd.Series([-0.379, -0.0574, 0.314, -0.150, -0.434, -0.0849, 0.0915],
                          index=ROSSI_TERMS)
    assert res.ties == "efron"
    assert list(res.params.index) == ROSSI_TERMS
    for term, value in published.items():
        digits = 3 - int(np.floor(np.log10(abs(value)))) - 1  # 3 significant digits
        assert round(res.params[term], digits) == pytest.approx(value, abs=1e-12), term
    # full precision, R survival (Efron), via scikit-survival's test fixture
    r_efron = [-0.379422166485887, -0.0574377426840626, 0.313899787842507,
               -0.149795697666534, -0.433703877937307, -0.0848710825003959,
               0.0914970809852961]
    np.testing.assert_allclose(res.params.to_numpy(), r_efron, rtol=1e-6)
    assert res.nobs == 432 and res.events == 114


def test_cox_breslow_ties_differ_and_match_reference(rossi: pd.DataFrame) -> None:
    """Breslow's approximation, as R's coxph(..., ties="breslow") reports it (recorded in
    scikit-survival's tests/test_coxph.py, fixture ``coef_rossi_coxph_breslow``)."""
    res = cox(rossi, "week ~ " + " + ".join(ROSSI_TERMS), event="arrest", ties="breslow")
    r_breslow = [-0.37902189, -0.05724593, 0.31412977, -0.15111460, -0.43278257,
                 -0.08498284, 0.09111154]
    np.testing.assert_allclose(res.params.to_numpy(), r_breslow, rtol=1e-6)
    efron = cox(rossi, " + ".join(ROSSI_TERMS), duration="week", event="arrest")
    assert abs(efron.params["prio"] - res.params["prio"]) > 1e-4  # ties matter here


def test_cox_summary_hazard_ratios_and_predictions(rossi: pd.DataFrame) -> None:
    res = cox(rossi, " + ".join(ROSSI_TERMS), duration="week", event="arrest")
    summary = res.summary()
    assert list(summary.columns) == ["estimate", "std_err", "z", "p_value", "ci_lower",
                                     "ci_upper", "hazard_ratio", "hr_ci_lower", "hr_ci_upper"]
    # Wald z and p by hand
    z = res.params["prio"] / res.bse["prio"]
    assert summary.loc["prio", "p_value"] == pytest.approx(2 * stats.norm.sf(abs(z)))
    assert summary.loc["fin", "hazard_ratio"] == pytest.approx(np.exp(res.params["fin"]))
    hr = res.predict(rossi.iloc[:5])
    xb = rossi.iloc[:5][ROSSI_TERMS].to_numpy() @ res.params.to_numpy()
    np.testing.assert_allclose(hr.to_numpy(), np.exp(xb))
    surv = res.predict(rossi.iloc[:5], kind="survival", times=[0, 10, 52])
    assert (surv[0] == 1).all() and (surv[52] < surv[10]).all()


def test_cox_rejects_unsafe_or_unknown_formula(rossi: pd.DataFrame) -> None:
    with pytest.raises(ModelInputError, match="not a column"):
        cox(rossi, "fin + nonsense", duration="week", event="arrest")
    with pytest.raises(ModelInputError, match="may use only"):
        cox(rossi, "fin + __import__('os').getcwd()", duration="week", event="arrest")
    with pytest.raises(ModelInputError, match="ties"):
        cox(rossi, "fin", duration="week", event="arrest", ties="exact")
    with pytest.raises(ModelInputError, match="no events"):
        cox(rossi.assign(arrest=0), "fin", duration="week", event="arrest")


# ---------------------------------------------------------------------------- Kaplan-Meier
def _km_by_hand(t: np.ndarray, e: np.ndarray) -> dict[float, float]:
    out, s = {}, 1.0
    for time in np.unique(t[e == 1]):
        at_risk = (t >= time).sum()
        deaths = ((t == time) & (e == 1)).sum()
        s *= 1 - deaths / at_risk
        out[float(time)] = s
    return out


def test_kaplan_meier_gehan_by_hand(gehan: pd.DataFrame) -> None:
    """Product-limit estimates of the 6-MP arm worked by hand: 18/21 = 0.857 at 6 weeks,
    then x 16/17, 14/15, 11/12, 10/11, 6/7, 5/6 (the classic textbook table: 0.857,
    0.807, 0.753, 0.690, 0.627, 0.538, 0.448)."""
    km = kaplan_meier(gehan["weeks"], gehan["relapse"], groups=gehan["arm"])
    table = km.table()
    mp = table[table["group"] == "6-MP"].set_index("time")["survival"]
    expected = {6: 18 / 21, 7: 18 / 21 * 16 / 17, 10: 18 / 21 * 16 / 17 * 14 / 15}
    for time, value in expected.items():
        assert mp[time] == pytest.approx(value)
    np.testing.assert_allclose(mp.round(3).to_numpy(),
                               [0.857, 0.807, 0.753, 0.690, 0.627, 0.538, 0.448])
    for arm, sub in gehan.groupby("arm"):
        hand = _km_by_hand(sub["weeks"].to_numpy(), sub["relapse"].to_numpy())
        got = table[table["group"] == arm].set_index("time")["survival"]
        np.testing.assert_allclose(got.loc[list(hand)].to_numpy(), list(hand.values()))
    medians = km.medians()
    assert medians.loc["placebo", "median"] == 8 and medians.loc["6-MP", "median"] == 23
    assert medians.loc["placebo", "events"] == 21 and medians.loc["6-MP", "n"] == 21
    at = km.survival_at([0, 6, 7, 100])
    assert at.loc["6-MP", 0] == 1.0 and at.loc["6-MP", 7] == pytest.approx(mp[7])
    # pointwise intervals bracket the estimate
    inner = table.dropna(subset=["ci_lower"])
    assert (inner["ci_lower"] <= inner["survival"]).all()
    assert (inner["survival"] <= inner["ci_upper"]).all()


def test_logrank_gehan_by_hand(gehan: pd.DataFrame) -> None:
    """Log-rank chi-square (O - E)^2 / V summed over the distinct relapse times, by hand
    (textbooks report 16.79 for these data, e.g. Kleinbaum & Klein, *Survival
    Analysis: A Self-Learning Text*, ch. 2)."""
    t, e = gehan["weeks"].to_numpy(), gehan["relapse"].to_numpy()
    g = (gehan["group"] == 1).to_numpy()
    o_minus_e, var = 0.0, 0.0
    for time in np.unique(t[e == 1]):
        risk = t >= time
        n, n1 = risk.sum(), (risk & g).sum()
        d = ((t == time) & (e == 1)).sum()
        d1 = ((t == time) & (e == 1) & g).sum()
        o_minus_e += d1 - d * n1 / n
        var += d * (n1 / n) * (1 - n1 / n) * (n - d) / max(n - 1, 1)
    km = kaplan_meier(t, e, groups=gehan["arm"])
    test = km.logrank()
    assert test is not None
    assert test.statistic == pytest.approx(o_minus_e**2 / var)
    assert round(test.statistic, 2) == 16.79
    assert test.p_value == pytest.approx(stats.chi2.sf(o_minus_e**2 / var, 1))
    assert "differ" in test.verdict() and "p < 0.001" in test.verdict()
    assert "median 8" in km.to_text()


def test_kaplan_meier_left_truncation_by_hand() -> None:
    """With entry times the risk set at t holds only rows with entry < t <= duration."""
    t = np.array([3, 5, 5, 8, 10])
    e = np.array([1, 1, 0, 1, 0])
    entry = np.array([0, 4, 0, 6, 0])
    km = kaplan_meier(t, e, entry=entry)
    s = km.table().set_index("time")["survival"]
    # t=3: at risk rows 0,2,4 (rows 1, 3 enter later) -> 2/3; t=5: rows 1,2,4 -> x 2/3;
    # t=8: rows 3,4 -> x 1/2
    assert s[3] == pytest.approx(2 / 3)
    assert s[5] == pytest.approx(2 / 3 * 2 / 3)
    assert s[8] == pytest.approx(2 / 3 * 2 / 3 / 2)


def test_kaplan_meier_errors() -> None:
    with pytest.raises(ModelInputError, match="events must be 0/1"):
        kaplan_meier([1, 2], [1, 2])
    with pytest.raises(ModelInputError, match="events has 1 values"):
        kaplan_meier([1, 2], [1])
    with pytest.raises(ModelInputError, match="must not be negative"):
        kaplan_meier([-1, 2], [1, 0])
    with pytest.raises(ModelInputError, match="missing or infinite"):
        kaplan_meier([np.nan, 2], [1, 0])


def test_plots_return_axes(gehan: pd.DataFrame, rossi: pd.DataFrame) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    km = kaplan_meier(gehan["weeks"], gehan["relapse"], groups=gehan["arm"])
    fig, ax = plt.subplots()
    assert km.plot(ax=ax) is ax
    assert len(ax.get_lines()) == 2
    res = cox(rossi, "fin + prio", duration="week", event="arrest")
    assert res.plot() is not None
    plt.close("all")


# ------------------------------------------------------------------------------ lifetimes
def _tiny_dataset() -> Dataset:
    months = pd.date_range("2024-01-01", periods=6, freq="MS")
    rows = []
    # A: paying from the first month (signed up 2023-10), churns after 3 months
    rows += [("A", m, 100.0) for m in months[:3]]
    # B: starts 2024-02, still paying at the end
    rows += [("B", m, 50.0) for m in months[1:]]
    # C: starts 2024-03, leaves 2024-05, comes back 2024-06 (first life counts)
    rows += [("C", months[2], 10.0), ("C", months[3], 10.0), ("C", months[5], 10.0)]
    mrr = pd.DataFrame(rows, columns=["account_id", "month", "mrr"])
    accounts = pd.DataFrame({"account_id": ["A", "B", "C"],
                             "signup_date": pd.to_datetime(["2023-10-15", "2024-02-01",
                                                            "2024-03-03"]),
                             "segment": ["x", "y", "y"]})
    return Dataset(accounts=accounts, mrr=mrr)


def test_account_lifetimes_by_hand() -> None:
    lives = account_lifetimes(_tiny_dataset(), by="segment").set_index("account_id")
    # A: life from 2023-10, entered the data at age 3, stopped paying in 2024-04 (age 6)
    assert lives.loc["A", ["entry", "duration", "churned"]].tolist() == [3, 6, True]
    assert lives.loc["A", "start_month"] == pd.Timestamp("2023-10-01")
    # B: 2024-02 .. 2024-06 paid, censored at the last month: 4 months survived
    assert lives.loc["B", ["entry", "duration", "churned"]].tolist() == [0, 4, False]
    # C: paid 2024-03, 2024-04, none in 2024-05 -> churned with duration 2
    assert lives.loc["C", ["duration", "churned", "last_mrr"]].tolist() == [2, True, 10.0]
    assert lives.loc["C", "segment"] == "y"
    with pytest.raises(ModelInputError, match="not found"):
        account_lifetimes(_tiny_dataset(), by="nope")


# ---------------------------------------------------------------------------- proportions
def test_compare_two_proportions_matches_chi_square() -> None:
    """The score test of two proportions is the Pearson chi-square of the 2x2 table
    scaled by (N - 1)/N (scipy computes the chi-square independently)."""
    res = compare_proportions([30, 45], [1000, 1100], labels=["a", "b"])
    chi2, p, *_ = stats.chi2_contingency([[30, 970], [45, 1055]], correction=False)
    assert res.statistic**2 == pytest.approx(chi2 * 2099 / 2100)
    assert res.difference is not None
    assert res.difference[0] == pytest.approx(0.03 - 45 / 1100)
    assert res.difference[1] < res.difference[0] < res.difference[2]
    assert res.table.loc["a", "rate"] == pytest.approx(0.03)
    assert "No real difference" in res.verdict()


def test_compare_several_proportions_matches_scipy() -> None:
    res = compare_proportions(pd.Series([30, 45, 60], index=["smb", "mid", "ent"]),
                              [1000, 1100, 900])
    table = [[30, 970], [45, 1055], [60, 840]]
    chi2, p, *_ = stats.chi2_contingency(table, correction=False)
    assert res.statistic == pytest.approx(chi2)
    assert res.p_value == pytest.approx(p)
    assert list(res.table.index) == ["smb", "mid", "ent"]
    assert "The rates differ" in res.verdict()
    with pytest.raises(ModelInputError, match="at least its successes"):
        compare_proportions([5, 3], [4, 10])


def test_models_reachable_from_the_package() -> None:
    assert cs_sim.models.kaplan_meier is kaplan_meier
    assert "models" in dir(cs_sim)
    assert set(cs_sim.models.__all__) == set(cs_sim.models._LAZY)
    assert dir(cs_sim.models) == sorted(cs_sim.models.__all__)
    for name in cs_sim.models.__all__:
        assert getattr(cs_sim.models, name) is not None, name
    with pytest.raises(AttributeError):
        cs_sim.models.nope  # noqa: B018
