"""The hand-made example company (data/example) against its hand calculation.

``data/example/README.md`` works out every KPI by hand, with the arithmetic visible, and
``data/example/expected_kpis.json`` stores the same numbers. This file checks

(a) that the two cannot drift apart: every number of the JSON file appears in the README
    (and the README's MRR-bridge and retention tables equal the JSON row by row), and the
    README's description of the files matches the files;
(b) that ``cs_sim`` computes exactly these numbers from the CSV files. The hand
    calculation is the independent source: nothing in the JSON file was produced by
    ``cs_sim``.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cs_sim import kpis
from cs_sim.io import load_dataset

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "example"
README = (EXAMPLE / "README.md").read_text(encoding="utf-8")
EXPECTED: dict[str, Any] = json.loads((EXAMPLE / "expected_kpis.json").read_text("utf-8"))
REL = 1e-9


def approx(value: Any) -> Any:
    return pytest.approx(value, rel=REL, abs=1e-12)


def _expected_ratio(value: float | str) -> float:
    """JSON stores the quick ratio of a month without losses as 'inf' or 'nan'."""
    return float(value)


def _same(actual: float, expected: float | str) -> bool:
    exp = _expected_ratio(expected)
    if math.isnan(exp):
        return math.isnan(actual)
    if math.isinf(exp):
        return actual == exp
    return math.isclose(actual, exp, rel_tol=REL, abs_tol=1e-12)


def _months(frame: pd.DataFrame, column: str = "month") -> list[str]:
    return [f"{m:%Y-%m}" for m in frame[column]]


def _by_month(frame: pd.DataFrame, column: str = "month") -> dict[str, pd.Series]:
    return {f"{row[column]:%Y-%m}": row for _, row in frame.iterrows()}


@pytest.fixture(scope="module")
def ds():
    return load_dataset(EXAMPLE)


# ----------------------------------------------------------------------------------------
# (a) README <-> JSON
# ----------------------------------------------------------------------------------------
_NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?")
README_TOKENS = {t.replace(",", "") for t in _NUMBER.findall(README)}


def _numbers(node: Any, path: str = "") -> list[tuple[str, float]]:
    """All numbers of a JSON tree with their paths (strings such as 'inf' are skipped)."""
    if isinstance(node, bool):
        return []
    if isinstance(node, (int, float)):
        return [(path, float(node))]
    if isinstance(node, dict):
        return [x for k, v in node.items() for x in _numbers(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [x for i, v in enumerate(node) for x in _numbers(v, f"{path}[{i}]")]
    return []


def _spellings(x: float) -> set[str]:
    """How the README may write x.

    Whole numbers as such (or with decimals: 1200.00, 1.0000, 25.0); fractions below 1 with
    4 decimals or as a percentage with 2 decimals (0.9238 or 92.38); other numbers with 2
    or 4 decimals (money, ratios); 6 decimals for constants such as z = 1.959964.
    """
    if x.is_integer():
        return {str(int(x)), f"{x:.1f}", f"{x:.2f}", f"{x:.4f}"}
    if abs(x) < 1:
        return {f"{x:.4f}", f"{x:.6f}", f"{100 * x:.2f}"}
    return {f"{x:.2f}", f"{x:.4f}", f"{x:.6f}"}


def test_every_expected_number_appears_in_readme():
    numbers = _numbers(EXPECTED)
    assert len(numbers) > 300
    missing = [(p, x) for p, x in numbers if not (_spellings(x) & README_TOKENS)]
    assert not missing, f"numbers of expected_kpis.json not found in README.md: {missing}"


def _readme_table(first_header: str) -> list[list[str]]:
    """Rows (as lists of cell texts) of the README table whose first header cell is given."""
    lines = README.splitlines()
    for i, line in enumerate(lines):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first_header and lines[i + 1].startswith("|--"):
            rows = []
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                rows.append([c.strip() for c in row.strip().strip("|").split("|")])
            return rows
    raise AssertionError(f"no table with first header {first_header!r} in README.md")


def _expand(label: str) -> list[str]:
    """'2024-06 .. 2024-12 (each)' -> the seven months; '2025-02' -> ['2025-02']."""
    m = re.match(r"(\d{4}-\d{2})(?: \.\. (\d{4}-\d{2}))?", label)
    assert m, label
    start, end = m.group(1), m.group(2) or m.group(1)
    return [f"{p}" for p in pd.period_range(start, end, freq="M").strftime("%Y-%m")]


def _table_by_month(first_header: str) -> dict[str, list[str]]:
    out = {}
    for row in _readme_table(first_header):
        for month in _expand(row[0]):
            out[month] = row[1:]
    return out


def test_readme_bridge_tables_equal_json():
    money = _table_by_month("month")  # the first "month" table is the MRR bridge
    keys = ["start_mrr", "new", "expansion", "contraction", "churned", "reactivation",
            "end_mrr"]
    assert list(money) == [b["month"] for b in EXPECTED["mrr_bridge"]]
    for b in EXPECTED["mrr_bridge"]:
        assert [float(c) for c in money[b["month"]][:7]] == [b[k] for k in keys], b["month"]
    logo_rows = _logo_table()
    ckeys = ["start_accounts", "new_accounts", "reactivated_accounts", "churned_accounts",
             "end_accounts"]
    for b in EXPECTED["mrr_bridge"]:
        assert [int(c) for c in logo_rows[b["month"]]] == [b[k] for k in ckeys], b["month"]


def _logo_table() -> dict[str, list[str]]:
    """The logo-count table: the one whose second header is 'start_accounts'."""
    lines = README.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("| month | start_accounts |"):
            out = {}
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                cells = [c.strip() for c in row.strip().strip("|").split("|")]
                for month in _expand(cells[0]):
                    out[month] = cells[1:]
            return out
    raise AssertionError("no logo-count table in README.md")


def test_readme_monthly_retention_table_equals_json():
    lines = README.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("| month | cohort accounts |"))
    table = {}
    for row in lines[start + 2:]:
        if not row.startswith("|"):
            break
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        for month in _expand(cells[0]):
            table[month] = cells[1:]
    keys = ["start_accounts", "start_mrr", "cohort_end_mrr", "retained_mrr", "nrr", "grr",
            "gross_mrr_churn_rate", "net_mrr_churn_rate", "logo_churn_rate", "quick_ratio"]
    assert list(table) == [r["month"] for r in EXPECTED["monthly_retention"]]
    for r in EXPECTED["monthly_retention"]:
        cells = table[r["month"]]
        for key, cell in zip(keys, cells, strict=True):
            exp = r[key]
            if isinstance(exp, str):
                assert cell.lower() == exp, (r["month"], key)
            else:  # the README rounds ratios to 4 decimals
                assert float(cell) == pytest.approx(exp, abs=5e-5), (r["month"], key)


def test_readme_file_table_matches_the_files(ds):
    table = {row[0]: int(row[1]) for row in _readme_table("file")}
    assert set(table) == {f"{name}.csv" for name in ds.tables()}
    for name, frame in ds.tables().items():
        assert len(frame) == table[f"{name}.csv"], name


# ----------------------------------------------------------------------------------------
# (b) cs_sim against the hand calculation
# ----------------------------------------------------------------------------------------
def test_mrr_by_month_and_arpa(ds):
    exp = EXPECTED["mrr_by_month"]
    for fn in (kpis.mrr_by_month, kpis.arpa):
        got = fn(ds.mrr)
        assert _months(got) == [e["month"] for e in exp]
        assert got["mrr"].tolist() == approx([e["mrr"] for e in exp])
        assert got["active_accounts"].tolist() == [e["active_accounts"] for e in exp]
        assert got["arpa"].tolist() == approx([e["arpa"] for e in exp])


def test_mrr_bridge(ds):
    got = kpis.mrr_bridge(ds.mrr)
    exp = EXPECTED["mrr_bridge"]
    assert _months(got) == [e["month"] for e in exp]
    for key in exp[0]:
        if key == "month":
            continue
        assert got[key].tolist() == approx([e[key] for e in exp]), key


_WINDOW_KEYS = ["start_accounts", "start_mrr", "cohort_end_mrr", "retained_mrr",
                "churned_accounts", "nrr", "grr", "gross_mrr_churn_rate",
                "net_mrr_churn_rate", "logo_churn_rate"]


def _check_window(row: pd.Series, exp: dict[str, Any], *, quick: bool = True) -> None:
    for key in _WINDOW_KEYS:
        assert row[key] == approx(exp[key]), key
    if quick:
        assert _same(float(row["quick_ratio"]), exp["quick_ratio"]), (
            row["quick_ratio"], exp["quick_ratio"])


def test_monthly_retention(ds):
    got = kpis.retention_by_month(ds.mrr, window_months=1)
    exp = EXPECTED["monthly_retention"]
    assert _months(got) == [e["month"] for e in exp]
    rows = _by_month(got)
    for e in exp:
        _check_window(rows[e["month"]], e)


def test_quick_ratio_by_month(ds):
    got = _by_month(kpis.quick_ratio(ds.mrr))
    for e in EXPECTED["monthly_retention"]:
        assert _same(float(got[e["month"]]["quick_ratio"]), e["quick_ratio"]), e["month"]


def test_whole_window_retention(ds):
    exp = EXPECTED["retention_window"]
    got = kpis.revenue_retention(ds.mrr, start=exp["start"], end=exp["end"])
    assert len(got) == 1
    _check_window(got.iloc[0], exp)


def test_trailing_twelve_month_retention(ds):
    got = _by_month(kpis.retention_by_month(ds.mrr, window_months=12))
    exp = EXPECTED["trailing_12m"]
    assert sorted(got) == [e["month"] for e in exp]
    for e in exp:
        assert f"{got[e['month']]['start_month']:%Y-%m}" == e["start_month"]
        _check_window(got[e["month"]], e, quick=False)


def test_customer_retention_cost(ds):
    got = kpis.customer_retention_cost(ds.costs, ds.mrr)
    exp = EXPECTED["crc"]
    assert _months(got) == [e["month"] for e in exp]
    for key in ("cs_cost", "support_cost", "tooling_cost", "total_cost", "active_accounts",
                "crc"):
        assert got[key].tolist() == approx([e[key] for e in exp]), key


def test_renewal_rate(ds):
    got = kpis.renewal_rate(ds.accounts, ds.mrr)
    exp = EXPECTED["renewals"]
    assert int(got["up_for_renewal"].sum()) == exp["up_for_renewal"]
    assert int(got["renewed"].sum()) == exp["renewed"]
    assert got["renewed"].sum() / got["up_for_renewal"].sum() == approx(exp["renewal_rate"])
    rows = _by_month(got)
    for event in exp["events"]:
        row = rows[event["month"]]
        assert (row["up_for_renewal"], row["renewed"]) == (1, event["renewed"])
        assert row["renewal_rate"] == float(event["renewed"])
    assert int(got["up_for_renewal"].sum()) == len(exp["events"])


def test_clv_simple_and_purchase(ds):
    exp = EXPECTED["clv"]
    # from the hand-calculated inputs
    assert kpis.clv_simple(exp["arpa"], gross_margin=exp["gross_margin"],
                           churn_rate=exp["monthly_logo_churn"]) == approx(exp["clv_simple"])
    assert kpis.clv_purchase(exp["arpa"], frequency=exp["purchase_frequency"],
                             lifespan=exp["expected_lifetime_months"]) == approx(
        exp["clv_purchase"])
    # and from the inputs as cs_sim computes them (ARPA of June, mean monthly logo churn)
    arpa = _by_month(kpis.arpa(ds.mrr))[exp["arpa_month"]]["arpa"]
    monthly = kpis.retention_by_month(ds.mrr, window_months=1)
    window = monthly[monthly["month"] >= pd.Timestamp("2025-02-01")]
    assert window["logo_churn_rate"].tolist() == approx(exp["monthly_logo_churn_rates"])
    churn = float(window["logo_churn_rate"].mean())
    assert churn == approx(exp["monthly_logo_churn"])
    assert kpis.clv_simple(arpa, gross_margin=exp["gross_margin"], churn_rate=churn) == approx(
        exp["clv_simple"])


@pytest.mark.parametrize("case", EXPECTED["churn_scaling"], ids=lambda c: f"{c['rate']:.4f}")
def test_scale_churn_rate(case):
    got = kpis.scale_churn_rate(case["rate"], from_months=case["from_months"],
                                to_months=case["to_months"])
    assert got == approx(case["result"])


def test_retention_profit():
    exp = EXPECTED["retention_profit"]
    inputs = exp["inputs"]
    annual = kpis.retention_profit(**inputs)
    a = exp["annual_basis"]
    assert annual.annual_retention_before == approx(a["annual_retention_before"])
    assert annual.annual_retention_after == approx(a["annual_retention_after"])
    assert annual.monthly_churn_after == approx(a["monthly_churn_after"])
    assert annual.expected_lifetime_months_before == approx(a["expected_lifetime_months_before"])
    assert annual.expected_lifetime_months_after == approx(a["expected_lifetime_months_after"])
    assert annual.clv_before == approx(a["clv_before"])
    assert annual.clv_after == approx(a["clv_after"])
    assert annual.clv_change_pct == approx(a["clv_change_pct"])
    assert annual.profit_before == approx(a["profit_before"])
    assert annual.profit_after == approx(a["profit_after"])
    assert annual.profit_change == approx(a["profit_change"])
    assert annual.profit_change_pct == approx(a["profit_change_pct"])
    monthly = kpis.retention_profit(**inputs, retention_basis="monthly")
    m = exp["monthly_basis"]
    assert monthly.monthly_churn_after == approx(m["monthly_churn_after"])
    assert monthly.clv_after == approx(m["clv_after"])
    assert monthly.clv_change_pct == approx(m["clv_change_pct"])


def _scores(ds, kind: str) -> pd.Series:
    return ds.surveys.loc[ds.surveys["kind"] == kind, "score"]


def test_nps_with_confidence_interval(ds):
    exp = EXPECTED["nps"]
    got = kpis.nps(_scores(ds, "nps"))
    assert (got.n, got.promoters, got.passives, got.detractors) == (
        exp["n"], exp["promoters"], exp["passives"], exp["detractors"])
    assert got.nps == approx(exp["nps"])
    assert got.ci_low == approx(exp["ci_low"])
    assert got.ci_high == approx(exp["ci_high"])


def test_csat_ces_and_voice_table(ds):
    assert kpis.csat(_scores(ds, "csat")) == approx(100 * EXPECTED["csat"]["csat"])
    assert kpis.ces(_scores(ds, "ces")) == approx(EXPECTED["ces"]["ces"])
    row = kpis.voice_by_period(ds.surveys, freq=None).iloc[0]
    assert (row["nps_n"], row["promoters"], row["detractors"]) == (16, 8, 4)
    assert row["nps"] == approx(EXPECTED["nps"]["nps"])
    assert row["nps_ci_low"] == approx(EXPECTED["nps"]["ci_low"])
    assert row["nps_ci_high"] == approx(EXPECTED["nps"]["ci_high"])
    assert (row["csat_n"], row["ces_n"]) == (EXPECTED["csat"]["n"], EXPECTED["ces"]["n"])
    assert row["csat"] == approx(100 * EXPECTED["csat"]["csat"])
    assert row["ces"] == approx(EXPECTED["ces"]["ces"])


def test_fcr_and_aht(ds):
    exp = EXPECTED["support"]
    fcr = kpis.first_contact_resolution(ds.tickets, freq=None).iloc[0]
    assert (fcr["resolved_tickets"], fcr["first_contact"]) == (
        exp["resolved"], exp["first_contact_resolved"])
    assert fcr["fcr"] == approx(exp["fcr"])
    aht = kpis.average_handle_time(ds.tickets, freq=None).iloc[0]
    assert aht["tickets"] == exp["tickets"]
    assert aht["handle_minutes"] == approx(exp["handle_minutes_all"])
    assert aht["aht"] == approx(exp["aht"])


def test_feedback_themes(ds):
    got = kpis.feedback_themes(ds.surveys).set_index("theme")
    exp = EXPECTED["themes"]
    assert sorted(got.index) == sorted(t["theme"] for t in exp["themes"])
    assert (got["n_comments"] == exp["n_comments"]).all()
    for t in exp["themes"]:
        row = got.loc[t["theme"]]
        assert (row["comments"], row["positive"], row["neutral"], row["negative"]) == (
            t["comments"], t["positive"], t["neutral"], t["negative"]), t["theme"]
        assert row["share"] == approx(t["share"])
    # each comment carries exactly the theme it was hand-coded with
    coded = kpis.code_feedback(ds.surveys.set_index("response_id")["comment"])
    for t in exp["themes"]:
        if t["theme"] in coded.columns:
            assert sorted(coded.index[coded[t["theme"]]]) == t["responses"], t["theme"]


def test_usage_kpis(ds):
    exp = EXPECTED["usage"]
    months = [e["month"] for e in exp]
    au = kpis.active_users(ds.usage)
    rate = kpis.product_usage_rate(ds.usage, ds.mrr)
    seats = kpis.seat_utilisation(ds.usage)
    time = kpis.time_on_platform(ds.usage)
    for frame in (au, rate, seats, time):
        assert _months(frame) == months

    def col(frame: pd.DataFrame, name: str) -> list[float]:
        return frame[name].astype(float).tolist()

    assert col(au, "mau") == approx([e["mau"] for e in exp])
    assert col(au, "dau") == approx([e["dau"] for e in exp])
    assert col(au, "wau") == approx([e["wau"] for e in exp])
    assert col(au, "stickiness") == approx([e["stickiness"] for e in exp])
    assert col(au, "wau_mau") == approx([e["wau_mau"] for e in exp])
    assert col(rate, "paying_accounts") == [e["paying_accounts"] for e in exp]
    assert col(rate, "using_accounts") == [e["accounts_with_users"] for e in exp]
    assert col(rate, "usage_rate") == approx([e["usage_rate"] for e in exp])
    assert col(seats, "seats") == approx([e["seats"] for e in exp])
    assert col(seats, "seat_utilisation") == approx([e["seat_utilisation"] for e in exp])
    assert col(time, "minutes") == approx([e["minutes"] for e in exp])
    assert col(time, "minutes_per_active_user") == approx(
        [e["time_on_platform"] for e in exp])


def test_trial_conversion(ds):
    exp = EXPECTED["trial_conversion"]
    got = kpis.trial_conversion(ds.trials, as_of=exp["as_of"], by_month=False).iloc[0]
    assert (got["trials_ended"], got["converted"]) == (exp["ended"], exp["converted"])
    assert got["conversion_rate"] == approx(exp["trial_conversion"])


def test_interaction_counts(ds):
    """Plain pandas counts of the touchpoints table, as listed in the README."""
    exp = EXPECTED["interactions"]
    assert len(ds.interactions) == exp["total"]
    assert ds.interactions["kind"].value_counts().to_dict() == exp["by_kind"]
    assert ds.interactions["owner_team"].value_counts().to_dict() == exp["by_owner_team"]
    assert ds.tickets["category"].value_counts().to_dict() == EXPECTED["support"]["by_category"]
    assert int(ds.tickets["resolved_at"].isna().sum()) == EXPECTED["support"]["open"]


# ----------------------------------------------------------------------------------------
# the baseline window and the metric conventions (sections 19 and 20 of the README)
# ----------------------------------------------------------------------------------------
def _inside(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    w = EXPECTED["baseline_window"]
    first = pd.Timestamp(w["first_month"] + "-01")
    after = pd.Timestamp(w["last_month"] + "-01") + pd.DateOffset(months=1)
    return frame[(frame[column] >= first) & (frame[column] < after)]


def test_voice_support_and_trials_of_the_window(ds):
    w = EXPECTED["baseline_window"]
    surveys = _inside(ds.surveys, "date")
    got = kpis.nps(surveys.loc[surveys["kind"] == "nps", "score"])
    assert (got.n, got.promoters, got.passives, got.detractors) == (
        w["nps"]["n"], w["nps"]["promoters"], w["nps"]["passives"], w["nps"]["detractors"])
    assert (got.nps, got.ci_low, got.ci_high) == (
        approx(w["nps"]["nps"]), approx(w["nps"]["ci_low"]), approx(w["nps"]["ci_high"]))
    assert kpis.csat(surveys.loc[surveys["kind"] == "csat", "score"]) == approx(
        100 * w["csat"]["csat"])
    assert kpis.ces(surveys.loc[surveys["kind"] == "ces", "score"]) == approx(w["ces"]["ces"])
    tickets = _inside(ds.tickets, "opened_at")
    fcr = kpis.first_contact_resolution(tickets, freq=None).iloc[0]
    assert (fcr["resolved_tickets"], fcr["first_contact"]) == (
        w["support"]["resolved"], w["support"]["first_contact_resolved"])
    aht = kpis.average_handle_time(tickets, freq=None).iloc[0]
    assert (aht["tickets"], aht["aht"]) == (w["support"]["tickets"], approx(w["support"]["aht"]))
    trial = kpis.trial_conversion(ds.trials, since="2025-02-01", as_of="2025-06-30",
                                  by_month=False).iloc[0]
    assert (trial["trials_ended"], trial["converted"]) == (
        w["trial_conversion"]["ended"], w["trial_conversion"]["converted"])
    assert trial["conversion_rate"] == approx(w["trial_conversion"]["trial_conversion"])


@pytest.mark.parametrize("conventions", ["cs_sim", "chartmogul", "baremetrics"])
def test_window_figures_under_each_convention(ds, conventions):
    c = EXPECTED["conventions"]
    got = kpis.revenue_retention(ds.mrr, start=c["opening_month"], end=c["end"],
                                 conventions=conventions).iloc[0]
    assert (got["start_mrr"], got["start_accounts"]) == (c["start_mrr"], c["start_accounts"])
    assert (got["churn_events"], got["returned_accounts"], got["reactivation"]) == (
        c["churn_events"], c["returned_accounts"], c["reactivation"])
    hand = c[conventions]
    for key in ("net_mrr_churn_rate", "logo_churn_rate", "quick_ratio"):
        assert got[key] == approx(hand[key]), key
    arpa = EXPECTED["clv"]["arpa"]
    churn = EXPECTED["clv"]["monthly_logo_churn"]
    assert kpis.clv_by_convention(arpa, churn_rate=churn, gross_margin=0.8,
                                  conventions=conventions) == approx(hand["clv"])
