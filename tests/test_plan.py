"""The strategy plan: eight parts whose figures are the inputs' figures, no placeholder
text, the revenue-vs-outcomes flag, and escaping of customer text in HTML and Markdown.

Independent truth: the hand calculations of data/example (expected_kpis.json and its
README), hand-built analysis objects whose numbers the plan must carry over unchanged,
and small synthetic datasets whose outcome is fixed by construction.
"""

from __future__ import annotations

import csv
import filecmp
import json
import math
import re
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

import cs_sim
from cs_sim.baseline import kpi_baseline
from cs_sim.errors import StrategyInputError
from cs_sim.format import fmt
from cs_sim.journey import journey_map
from cs_sim.maturity import assess_maturity
from cs_sim.plan import PART_KEYS, build_plan

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = json.loads((ROOT / "data" / "example" / "expected_kpis.json").read_text())
TITLES = ["Segmentation", "Orchestration", "Interventions", "Measurement", "Expansion",
          "Communication", "Instrumentation", "Operationalisation"]


@pytest.fixture(scope="module")
def example() -> cs_sim.Dataset:
    return cs_sim.load_dataset(ROOT / "data" / "example")


@pytest.fixture(scope="module")
def inputs(example: cs_sim.Dataset) -> dict:
    service = pd.DataFrame(
        {"tier": ["high_touch", "low_touch", "tech_touch"], "accounts": [2, 5, 2],
         "csm_headcount": [2.5, 1.7, 0.6]},
        index=pd.Index(["enterprise", "growth", "starter"], name="segment"))
    table = pd.DataFrame({"label": ["Plan", "Region"], "n_segments": [3, 3],
                          "min_size": [2, 3], "churn_explained": [0.41, 0.05],
                          "nrr_explained": [0.33, 0.02], "stability": [1.0, 1.0],
                          "rank": [1, 2]}, index=pd.Index(["plan", "region"], name="candidate"))
    segmentation = SimpleNamespace(recommended="plan", reason="it explains most churn",
                                   table=table, unavailable={})
    research = SimpleNamespace(by="plan", pain_points=["reliability", "pricing"],
                               unavailable={"interviews": "none recorded"})
    summary = pd.DataFrame({"baseline": [0.80, 0.95, 1000.0, 500.0],
                            "variant": [0.83, 0.99, 1500.0, 700.0],
                            "diff": [0.03, 0.04, 500.0, 200.0],
                            "ci_lo": [0.01, 0.02, 100.0, 150.0],
                            "ci_hi": [0.05, 0.06, 900.0, 250.0]},
                           index=["grr", "nrr", "profit", "total_cost"])
    return {
        "research": research, "segmentation": segmentation, "service": service,
        "maturity": assess_maturity(ROOT / "tests" / "data" / "maturity_proactive.yaml",
                                    dataset=example),
        "journey": journey_map(example),
        "baseline": kpi_baseline(example, start="2025-01"),
        "comparisons": {"save_play": summary},
    }


@pytest.fixture(scope="module")
def plan(example: cs_sim.Dataset, inputs: dict):
    return build_plan(example, **inputs)


def section(text: str, number: int) -> str:
    """The Markdown of part ``number`` (from its heading to the next)."""
    start = text.index(f"## {number}. ")
    end = text.find(f"## {number + 1}. ", start)
    return text[start:] if end < 0 else text[start:end]


def test_eight_parts_in_order(plan) -> None:
    assert tuple(plan.parts) == PART_KEYS
    assert [p.title for p in plan.parts.values()] == TITLES
    md, page = plan.to_markdown(), plan.to_html()
    for i, title in enumerate(TITLES, start=1):
        assert f"## {i}. {title}" in md
        assert f"<h2>{i}. {title}</h2>" in page
    for part in plan.parts.values():
        assert part.figures or part.tables, part.key


def test_no_placeholder_text(plan) -> None:
    for text in (plan.to_markdown(), plan.to_html()):
        for word in ("TODO", "TBD", "lorem", "XXX", "{{", "}}", "{%", "Undefined"):
            assert word not in text
        assert not re.search(r"\b(nan|None|NaT|inf)\b", text)
        assert not re.search(r"\d\.\d+e[+-]\d", text)  # no scientific notation


def test_segmentation_part(plan, example: cs_sim.Dataset) -> None:
    """June 2025: 9 paying accounts, MRR 6,550 (README); enterprise = A01 1,500 + A12 1,200."""
    part = plan.parts["segmentation"]
    assert part.figure("paying_accounts") == EXPECTED["mrr_by_month"][-1]["active_accounts"]
    assert part.figure("mrr") == EXPECTED["mrr_by_month"][-1]["mrr"]
    md = section(plan.to_markdown(), 1)
    assert "6,550" in md and "recommends 'plan'. it explains most churn" in md
    seg = part.tables[-1].frame.set_index("segment")
    assert seg.loc["enterprise", "mrr"] == 2700 and seg.loc["enterprise", "accounts"] == 2
    assert seg["accounts"].sum() == 9
    assert "41.0%" in md  # the candidate table's churn explained, carried over
    assert "reliability, pricing" in md


def test_orchestration_takes_the_journey(plan, inputs: dict) -> None:
    part = plan.parts["orchestration"]
    jm = inputs["journey"]
    assert part.figure("ttfv") == jm.metric("onboarding", "time_to_first_value_median")
    assert part.figure("onboarding_completion") == jm.metric("onboarding",
                                                              "onboarding_completion")
    table = part.tables[0].frame.set_index("segment")
    assert table.loc["enterprise", "tier"] == "high_touch"
    assert "named CSM" in table.loc["enterprise", "we provide"]
    assert "executive sponsor" in table.loc["enterprise", "the customer"]
    assert "self-service" in table.loc["starter", "we provide"]


def test_interventions_count_accounts_and_carry_simulated_effects(
        plan, example: cs_sim.Dataset) -> None:
    from cs_sim.kpis import health_score

    part = plan.parts["interventions"]
    h = health_score(example.usage, example.mrr, tickets=example.tickets,
                     surveys=example.surveys)
    red = h[(h["month"] == "2025-06-01") & (h["band"] == "red")]
    assert part.figure("red_accounts") == len(red)
    plays = part.tables[0].frame.set_index("play")
    assert plays.loc["Quarterly business review", "accounts now"] == 2  # high-touch segment
    # escalations (3+ contacts) opened in Apr-Jun 2025: T014 (A03) and T021 (A01)
    assert plays.loc["Escalation review", "accounts now"] == 2
    assert part.figure("sim_save_play_grr") == 0.03
    assert part.figure("sim_save_play_profit") == 500.0
    md = section(plan.to_markdown(), 3)
    assert "+3.0 pp" in md and "+500" in md


def test_measurement_part(plan, inputs: dict) -> None:
    """Window 2025-01 .. 2025-06: NRR 92.38%, GRR 67.62%, logo churn 22.22% (by hand)."""
    part = plan.parts["measurement"]
    window = EXPECTED["retention_window"]
    assert part.figure("nrr") == pytest.approx(window["nrr"])
    assert part.figure("grr") == pytest.approx(window["grr"])
    assert part.figure("logo_churn_rate") == pytest.approx(window["logo_churn_rate"])
    md = section(plan.to_markdown(), 4)
    assert "92.4%" in md and "67.6%" in md
    goals = plan.goals.set_index(["segment", "kpi"])
    assert goals.loc[("all", "GRR"), "target"] == fmt(window["grr"] + 0.02, "pct")
    assert goals.loc[("all", "Logo churn"), "target"] == fmt(
        window["logo_churn_rate"] * 0.9, "pct")
    nps = inputs["baseline"].headline.loc["nps", "all"]  # carried over from the input
    assert goals.loc[("all", "NPS"), "baseline"] == fmt(nps, "score")
    assert goals.loc[("all", "NPS"), "target"] == fmt(nps + 5, "score")
    assert [d.date().isoformat() for d in plan.checkins] == [
        "2025-10-01", "2026-01-01", "2026-04-01", "2026-07-01"]
    assert "2025-10-01" in md


def test_expansion_part(plan) -> None:
    part = plan.parts["expansion"]
    assert part.figure("renewal_rate") == pytest.approx(EXPECTED["renewals"]["renewal_rate"])
    assert part.figure("expansion_mrr") == EXPECTED["retention_window"]["expansion"]
    # June: seats at least 90% used by A03 18/20, A04 27/30, A07 9/10, A08 36/40, A11 20/20
    assert part.figure("upsell_candidates") == 5
    # promoters (9-10) in the last 12 months: A01, A04, A07, A08, A09, A11
    assert part.figure("promoters") == 6
    md = section(plan.to_markdown(), 5)
    assert "Kestrel Labs" in md and "1,300" in md


def test_communication_and_operationalisation(plan, inputs: dict) -> None:
    comm = plan.parts["communication"]
    # high-touch 2 accounts x 16 touches x 1.5 h, low-touch 5 x 4 x 0.75 h, tech-touch none
    assert comm.figure("csm_hours") == pytest.approx((2 * 16 * 1.5 + 5 * 4 * 0.75) / 12)
    ops = plan.parts["operationalisation"]
    assert ops.figure("stage") == inputs["maturity"].stage == "proactive"
    assert ops.figure("roadmap_steps") == len(inputs["maturity"].roadmap)
    # the service model needs 2.5 + 1.7 + 0.6 = 4.8 -> 5 CSMs; csm_ana, csm_ben, csm_cho
    assert (ops.figure("csm_needed"), ops.figure("csm_current"), ops.figure("hires")) == (5, 3, 2)
    with open(ROOT / "data" / "example" / "costs.csv") as fh:
        rows = list(csv.DictReader(fh))[-3:]
    run = sum(float(r["cs_cost"]) + float(r["support_cost"]) + float(r["tooling_cost"])
              for r in rows) / 3
    assert ops.figure("cs_cost_month") == pytest.approx(run)
    per_csm = sum(float(r["cs_cost"]) for r in rows) / 3 / 3
    assert ops.figure("budget_year") == pytest.approx(12 * (run + 2 * per_csm))
    md = section(plan.to_markdown(), 8)
    assert fmt(run, "money") in md and "Sales" in md and "Marketing" in md
    assert "Product" in md and "Support" in md


def test_instrumentation_part(plan) -> None:
    part = plan.parts["instrumentation"]
    assert part.figure("tables") == 8 and part.figure("months") == 17
    md = section(plan.to_markdown(), 7)
    assert "interviews" in md  # a gap reported by the research analysis
    assert "accounts.csm_id" in md  # 6 of 14 accounts have no CSM


def _write(folder: Path, files: dict[str, list[list]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in files.items():
        with open(folder / f"{name}.csv", "w", newline="") as fh:
            csv.writer(fh).writerows(rows)
    return folder


def _trend_company(folder: Path, *, outcomes_fall: bool) -> cs_sim.Dataset:
    """Four annual accounts, 2024-01 .. 2025-01. MRR 100 each until 2024-07, then each
    grows by 20 (NRR over the first 6 months 100%, over the last 6 months 120%). Seat use
    9/10 then 5/10 and NPS 10 then 3 (or the other way round)."""
    months = pd.date_range("2024-01-01", "2025-01-01", freq="MS")
    ids = ["A1", "A2", "A3", "A4"]
    accounts = [["account_id", "name", "contract", "signup_date"]] + [
        [a, f"Co {a}", "annual", "2023-06-01"] for a in ids]
    mrr = [["account_id", "month", "mrr"]] + [
        [a, m.strftime("%Y-%m"), 100 if m <= pd.Timestamp("2024-07-01") else 120]
        for a in ids for m in months]
    hi, lo = (9, 5) if outcomes_fall else (5, 9)
    usage = [["account_id", "month", "active_users", "seats", "sessions", "minutes",
              "key_feature_events"]] + [
        [a, m.strftime("%Y-%m"), hi if m <= pd.Timestamp("2024-07-01") else lo, 10, 10, 100, 5]
        for a in ids for m in months]
    good, bad = (10, 3) if outcomes_fall else (3, 10)
    surveys = [["response_id", "account_id", "date", "kind", "score", "comment"]] + [
        [f"R{i}{a}", a, d, "nps", s, ""] for i, (d, s) in enumerate(
            [("2024-04-15", good), ("2024-10-15", bad)]) for a in ids]
    return cs_sim.load_dataset(_write(folder, {"accounts": accounts, "mrr": mrr,
                                               "usage": usage, "surveys": surveys}))


def test_revenue_up_while_outcomes_fall_is_flagged(tmp_path: Path) -> None:
    ds = _trend_company(tmp_path / "down", outcomes_fall=True)
    part = build_plan(ds, by=None).parts["measurement"]
    assert part.figure("nrr_change") == pytest.approx(0.2)
    assert part.figure("outcomes_worse") == 2  # seat utilisation and NPS
    assert len(part.flags) == 1 and "Revenue retention improved (+20.0 pp)" in part.flags[0]
    vector = part.tables[0].frame.set_index("metric")
    assert vector.loc["Seat utilisation", "change"] == "-40.0 pp"
    assert vector.loc["NPS", "change"] == "-200.0"
    ok = build_plan(_trend_company(tmp_path / "up", outcomes_fall=False)).parts["measurement"]
    assert ok.figure("outcomes_worse") == 0 and ok.flags == []


def test_customer_text_is_escaped(tmp_path: Path, example: cs_sim.Dataset) -> None:
    """A script in an account name, a comment and a segment label is shown, not run."""
    evil = "<script>alert('x')</script>"
    folder = tmp_path / "evil"
    folder.mkdir()
    for src in (ROOT / "data" / "example").glob("*.csv"):
        (folder / src.name).write_text(src.read_text())
    acc = pd.read_csv(folder / "accounts.csv", dtype=str, keep_default_na=False)
    acc.loc[acc["account_id"] == "A01", "name"] = f"{evil} Retail | Group"
    acc["segment"] = [f"{evil}seg" if p == "enterprise" else p for p in acc["plan"]]
    acc.to_csv(folder / "accounts.csv", index=False)
    with open(folder / "surveys.csv", "a") as fh:
        fh.write(f'S99,A01,2025-06-20,nps,2,"{evil} & it breaks | tables"\n')
    ds = cs_sim.load_dataset(folder)
    plan = build_plan(ds, by="segment")
    page, md = plan.to_html(), plan.to_markdown()
    assert "<script>" not in page and "<script>" not in md
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Retail | Group" in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;seg" in page
    assert "&lt;script&gt;alert('x')&lt;/script&gt; &amp; it breaks \\| tables" in md
    # the name and the comment are really in the plan (interventions: a detractor)
    acts = plan.parts["interventions"].tables[1].frame
    assert acts["account"].iloc[0].startswith(evil)
    # table rows keep their number of cells despite the pipes
    for line in section(md, 3).splitlines():
        if line.startswith("| ") and "Retail" in line:
            assert len(re.findall(r"(?<!\\)\|", line)) == 6


def test_runs_on_the_sample_and_on_accounts_and_mrr_only() -> None:
    sample = cs_sim.load_dataset(ROOT / "data" / "sample")
    plan = build_plan(sample)
    assert plan.by == "segment"
    # independent count straight from the CSV: accounts with MRR > 0 in the last month
    raw = pd.read_csv(ROOT / "data" / "sample" / "mrr.csv")
    last = raw[raw["month"] == raw["month"].max()]
    paying = last.loc[last["mrr"] > 0, "account_id"].nunique()
    assert plan.parts["segmentation"].figure("paying_accounts") == paying
    minimal = cs_sim.Dataset(accounts=sample.accounts, mrr=sample.mrr, source="minimal")
    small = build_plan(minimal)
    assert tuple(small.parts) == PART_KEYS
    gaps = small.parts["instrumentation"]
    assert gaps.figure("tables") == 2
    md = small.to_markdown()
    assert "needs the optional table usage" in md
    assert "the costs table is missing" in md
    assert not re.search(r"\b(nan|None)\b", md)


def test_packaged_templates_are_the_templates() -> None:
    for name in ("strategy_plan.md.j2", "strategy_plan.html.j2"):
        assert filecmp.cmp(ROOT / "templates" / name,
                           ROOT / "cs_sim" / "resources" / "templates" / name, shallow=False)


def test_targets_and_outputs(example: cs_sim.Dataset, inputs: dict, tmp_path: Path) -> None:
    plan = build_plan(example, baseline=inputs["baseline"], journey=inputs["journey"],
                      targets={"grr": 0.05, "logo_churn_rate": (-0.5, "relative")})
    goals = plan.goals.set_index(["segment", "kpi"])
    window = EXPECTED["retention_window"]
    assert goals.loc[("all", "GRR"), "target"] == fmt(window["grr"] + 0.05, "pct")
    assert goals.loc[("all", "Logo churn"), "target"] == fmt(
        window["logo_churn_rate"] * 0.5, "pct")
    with pytest.raises(StrategyInputError, match="targets.arr: unknown KPI"):
        build_plan(example, baseline=inputs["baseline"], targets={"arr": 0.1})
    files = {p.name for p in plan.write(tmp_path)}
    assert files == {"strategy_plan.md", "strategy_plan.html", "plan.json", "goals.csv"}
    data = json.loads((tmp_path / "plan.json").read_text())
    assert list(data["parts"]) == list(PART_KEYS)
    nrr = data["parts"]["measurement"]["figures"]["nrr"]["value"]
    assert math.isclose(nrr, window["nrr"])
