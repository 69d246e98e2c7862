"""The synthetic company generator (cs_sim.synth) and the bundled data/sample.

The independent sources here: the engine's own result frame for the same replication
(``cs_sim.simulate``), the KPI library computing from the exported files, the feedback
taxonomy coding the comments, and the committed manifest of data/sample.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import cs_sim
from cs_sim.errors import CsSimError, ScenarioError
from cs_sim.io import load_dataset
from cs_sim.kpis import code_feedback, feedback_themes, mrr_bridge, nps, retention_by_month
from cs_sim.sim import record
from cs_sim.sim.record import (
    EQUATIONS,
    csat_score,
    lost_trials,
    ticket_details,
    usage_activity,
)
from cs_sim.synth import (
    SynthParams,
    generate,
    generate_company,
    headline_kpis_text,
    load_ground_truth,
    scenario_from_ground_truth,
    write_company,
)

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "templates" / "scenarios" / "baseline.yaml"
SAMPLE = ROOT / "data" / "sample"
SEED = 11
TABLES = ("accounts", "mrr", "usage", "tickets", "surveys", "trials", "interactions", "costs")


@pytest.fixture(scope="module")
def company() -> cs_sim.synth.SyntheticCompany:
    return generate_company(BASELINE, seed=SEED, n_accounts=250, months=13,
                            start_month="2024-01")


@pytest.fixture(scope="module")
def folder(company, tmp_path_factory) -> Path:
    return write_company(company, tmp_path_factory.mktemp("co") / "company")


@pytest.fixture(scope="module")
def loaded(folder):
    return load_dataset(folder)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------------ export
def test_export_passes_validation_and_round_trips(company, folder, loaded):
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted([f"{t}.csv" for t in TABLES]
                           + ["README.md", "ground_truth.json", "manifest.json"])
    for t in TABLES:
        frame = getattr(loaded, t)
        assert frame is not None and len(frame) == len(getattr(company.dataset, t)), t
    # extra (non-canonical) columns survive
    assert {"segment", "tier"} <= set(loaded.accounts.columns)
    assert "intervention" in loaded.interactions.columns
    # every customer's MRR rows start in the month of its converted trial
    first_paid = loaded.mrr.groupby("account_id")["month"].min()
    won = loaded.trials[loaded.trials["converted"]].set_index("account_id")["trial_end"]
    won_month = won.dt.to_period("M").dt.to_timestamp()
    assert (first_paid.reindex(won.index) == won_month).all()
    # prospects (lost trials) have no MRR; the other accounts without MRR are customers
    # that churned in the first month (MRR is 0 from the churn month: they paid before)
    lost = loaded.trials.loc[~loaded.trials["converted"], "account_id"]
    assert not lost.isin(loaded.mrr["account_id"]).any()
    others = loaded.accounts.loc[~loaded.accounts["account_id"].isin(
        pd.concat([lost, loaded.mrr["account_id"]])), "account_id"]
    usage_months = loaded.usage[loaded.usage["account_id"].isin(others)]["month"]
    assert (usage_months == loaded.mrr["month"].min()).all()
    assert others.isin(loaded.usage["account_id"]).all()
    month0_churn = company.history.monthly["churned"].iloc[0]
    assert len(others) <= month0_churn


def test_parquet_export_loads(company, tmp_path):
    out = write_company(company, tmp_path / "pq", format="parquet")
    ds = load_dataset(out)
    assert sorted(p.suffix for p in out.glob("*.parquet")) == [".parquet"] * len(TABLES)
    pd.testing.assert_series_equal(ds.mrr["mrr"], company.dataset.mrr["mrr"])


def test_same_seed_same_bytes_other_seed_differs(tmp_path, monkeypatch):
    kw = dict(n_accounts=60, months=4, start_month="2024-01")
    for sub, seed in (("a", 5), ("b", 5), ("c", 6)):
        (tmp_path / sub).mkdir()
        monkeypatch.chdir(tmp_path / sub)
        generate("company", BASELINE, seed=seed, **kw)
    a, b, c = (tmp_path / s / "company" for s in "abc")
    files = sorted(p.name for p in a.iterdir())
    assert len(files) == 11
    for name in files:  # README and manifest included: the same relative folder name
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "mrr.csv").read_bytes() != (c / "mrr.csv").read_bytes()
    assert (a / "surveys.csv").read_bytes() != (c / "surveys.csv").read_bytes()


# ------------------------------------------------------------------------ faithful
def test_company_is_replication_of_simulate(company):
    res = cs_sim.simulate(company.scenario, replications=1, seed=SEED)
    pd.testing.assert_frame_equal(
        company.history.monthly.reset_index(drop=True), res.monthly.reset_index(drop=True),
        check_exact=True,
    )


def test_kpis_on_exported_tables_equal_engine_frame(company, loaded):
    eng = company.history.monthly.reset_index(drop=True)
    # the bridge starts at the second month of the data (the first is the opening balance)
    bridge = mrr_bridge(loaded.mrr)
    later = eng.iloc[1:].reset_index(drop=True)
    assert list(bridge["month"]) == list(later["date"])
    pairs = {
        "start_mrr": "mrr_start", "new": "new_mrr", "expansion": "expansion_mrr",
        "contraction": "contraction_mrr", "churned": "churned_mrr", "end_mrr": "mrr_end",
        "start_accounts": "accounts_start", "new_accounts": "new_logos",
        "churned_accounts": "churned", "end_accounts": "accounts_end",
    }
    for kpi_col, eng_col in pairs.items():
        np.testing.assert_allclose(bridge[kpi_col].to_numpy(float),
                                   later[eng_col].to_numpy(float), rtol=1e-12, err_msg=kpi_col)
    assert (bridge["reactivation"] == 0).all()  # the engine never brings a logo back
    monthly = retention_by_month(loaded.mrr, window_months=1)
    np.testing.assert_allclose(monthly["logo_churn_rate"], later["logo_churn_rate"], rtol=1e-12)
    np.testing.assert_allclose(monthly["nrr"], later["nrr"], rtol=1e-12)
    np.testing.assert_allclose(monthly["grr"], later["grr"], rtol=1e-12)
    # NPS per month from the surveys table = the engine's monthly NPS
    sv = loaded.surveys[loaded.surveys["kind"] == "nps"]
    by_month = sv.groupby(sv["date"].dt.to_period("M"))["score"]
    ours = np.array([nps(s).nps for _, s in by_month])
    assert len(ours) == len(eng)
    np.testing.assert_allclose(ours, eng["nps"].to_numpy(), rtol=1e-12)
    # costs: CS cost + tooling = the engine's total cost of the month (cents)
    costs = loaded.costs
    np.testing.assert_allclose(costs["cs_cost"] + costs["tooling_cost"], eng["total_cost"],
                               atol=0.01)
    # tickets not solved at first contact = the engine's failed tickets of the month
    t = loaded.tickets
    failed = t[t["contacts_to_resolve"] > 1].groupby(t["opened_at"].dt.to_period("M")).size()
    np.testing.assert_array_equal(failed.to_numpy(), eng["failed_tickets"].to_numpy())


def test_trial_conversion_matches_scenario(company, loaded):
    # lost trials ~ Poisson(new * (1 - c) / c), so converted / all ~ c = 0.3 (~2,000 trials)
    conv = loaded.trials["converted"].mean()
    assert company.scenario.acquisition.trial_conversion == 0.3
    assert 0.26 < conv < 0.34


# ------------------------------------------------------------------------ comments
def test_every_comment_template_codes_to_its_theme():
    from importlib.resources import files

    lib = yaml.safe_load(files("cs_sim").joinpath("resources", "survey_comments.yaml")
                         .read_text("utf-8"))
    texts, want = [], []
    for theme, by in [*lib["themes"].items(), ("uncoded", lib["uncoded"])]:
        for lines in by.values():
            for line in lines:
                for feature in (lib["features"] if "{feature}" in line else [""]):
                    texts.append(line.format(feature=feature))
                    want.append(theme)
    coded = code_feedback(texts)  # the packaged default taxonomy
    assert list(coded.columns) == [t for t in lib["themes"]]
    for text, theme, (_, row) in zip(texts, want, coded.iterrows(), strict=True):
        got = set(row[row].index)
        assert got == (set() if theme == "uncoded" else {theme}), text


def test_survey_comments_are_coded_into_themes(company, loaded):
    p = SynthParams()
    themes = feedback_themes(loaded.surveys).set_index("theme")
    n = int(themes["n_comments"].iloc[0])
    assert n > 500
    assert (themes.drop(index="uncoded")["comments"] > 0).all()
    uncoded = themes.loc["uncoded", "share"]
    assert abs(uncoded - p.uncoded_share) < 4 * np.sqrt(p.uncoded_share * 0.92 / n)
    # known truth: onboarding comments are ~4x likelier in a customer's first months
    sv = loaded.surveys[loaded.surveys["comment"].notna()]
    first_paid = loaded.mrr.groupby("account_id")["month"].min()
    start = loaded.mrr["month"].min()
    won = first_paid[first_paid > start]
    sv = sv[sv["account_id"].isin(won.index)]
    tenure = ((sv["date"].dt.year - won.reindex(sv["account_id"]).dt.year.to_numpy()) * 12
              + sv["date"].dt.month - won.reindex(sv["account_id"]).dt.month.to_numpy())
    onboarding = code_feedback(sv["comment"])["onboarding"]
    early = tenure < company.scenario.behaviour.churn.early_life_months
    assert onboarding[early].mean() > 2 * onboarding[~early].mean()


# ------------------------------------------------------------------------ ground truth
def test_ground_truth_round_trips_into_the_scenario(company, folder):
    truth = load_ground_truth(folder)
    assert truth == json.loads((folder / "ground_truth.json").read_text())
    assert scenario_from_ground_truth(truth) == company.scenario
    assert scenario_from_ground_truth(folder / "ground_truth.json") == company.scenario
    assert truth["seed"] == SEED and truth["engine_version"]
    churn = truth["behaviour"]["churn"]
    assert churn["intercept_by_segment"] == {"smb": -3.5, "mid_market": -4.0,
                                             "enterprise": -4.6}  # baseline.yaml
    assert churn["health_slope"] == -0.45 and churn["early_life"] == 0.6
    assert truth["behaviour"]["support"]["fcr"] == 0.72
    assert truth["behaviour"]["nps"]["nps_intercept"] == 7.7
    assert truth["behaviour"]["csat"]["csat_intercept"] == 3.8
    assert truth["period"] == {"first_month": "2024-01", "last_month": "2025-01", "months": 13,
                              "warmup_months": 36}


# ------------------------------------------------------------------------ recorded data
def test_recorded_equations_are_what_the_docs_show(company, folder):
    truth = load_ground_truth(folder)
    assert list(EQUATIONS) == ["usage_activity", "tickets", "csat", "lost_trials"]
    assert truth["behaviour"]["support"]["model"] == EQUATIONS["tickets"].text
    assert truth["behaviour"]["csat"]["model"] == EQUATIONS["csat"].text
    readme = (folder / "README.md").read_text()
    for eq in EQUATIONS.values():
        assert f"- {eq.name.replace('_', ' ')}: {eq.text}." in readme
        assert getattr(record, eq.function.__name__) is eq.function


def test_csat_score_by_hand():
    sv = cs_sim.load_scenario(BASELINE).behaviour.surveys
    assert (sv.csat_intercept, sv.csat_health_slope, sv.csat_first_contact,
            sv.csat_noise_sd) == (3.8, 0.4, 0.8, 0.8)
    health = np.array([50.0, 75.0, 10.0, 90.0, 50.0])
    first = np.array([True, False, False, True, False])
    z = np.array([0.0, 0.5, -1.0, 2.0, -9.0])
    # 3.8 + 0.4 * x + 0.8 * first + 0.8 * z, x = (h - 50) / 10, rounded, clipped to 1-5
    # 4.6 -> 5; 3.8 + 1.0 + 0.4 = 5.2 -> 5; 3.8 - 1.6 - 0.8 = 1.4 -> 1;
    # 3.8 + 1.6 + 0.8 + 1.6 = 7.8 -> 5; 3.8 - 7.2 -> 1
    np.testing.assert_array_equal(csat_score(health, first, z, sv), [5, 5, 1, 5, 1])
    # inside the scale: 3.8 - 0.2 - 0.4 = 3.2 -> 3; 3.8 + 0.4 + 0.24 = 4.44 -> 4
    np.testing.assert_array_equal(
        csat_score(np.array([45.0, 60.0]), np.array([False, False]), np.array([-0.5, 0.3]),
                   sv), [3, 4])


def test_ticket_details_follow_their_equation():
    g = np.random.default_rng(1)
    n = 20_000
    support = cs_sim.load_scenario(BASELINE).behaviour.support  # fcr 0.72, 25 minutes
    tps, seats = np.full(n, 0.03), np.full(n, 100.0)
    failed = g.poisson(tps * seats * (1 - support.fcr))  # as the engine draws them
    per_row, first, contacts, handle = ticket_details(g, tps, seats, failed, support)
    n_ok = per_row - failed
    # first-contact tickets ~ Poisson(0.03 * 100 * 0.72 = 2.16) per account-month
    assert abs(n_ok.mean() - 2.16) < 4 * np.sqrt(2.16 / n)
    assert first.sum() == n_ok.sum() and (~first).sum() == failed.sum()
    assert (contacts[first] == 1).all() and (contacts[~first] >= 2).all()
    extra = contacts[~first] - 2  # ~ Poisson(0.7)
    assert abs(extra.mean() - 0.7) < 4 * np.sqrt(0.7 / extra.size)
    # handle time = Gamma(3, 25 / 3) x contacts: mean 25 minutes per contact
    per_contact = handle / contacts
    assert abs(per_contact.mean() - 25.0) < 4 * 25.0 / np.sqrt(3 * handle.size)
    np.testing.assert_array_equal(handle, np.round(handle, 1))


def test_usage_and_lost_trials_follow_their_equations():
    g = np.random.default_rng(2)
    usage = cs_sim.load_scenario(BASELINE).behaviour.usage
    au = np.full(5_000, 10)
    sessions, minutes, events = usage_activity(g, au, usage)
    lam = 10 * usage.sessions_per_user  # 120 sessions a month
    assert abs(sessions.mean() - lam) < 4 * np.sqrt(lam / au.size)
    # E[minutes | sessions] = E[Gamma(2, 1)] / 2 * sessions * minutes_per_session
    ratio = minutes.sum() / (sessions.sum() * usage.minutes_per_session)
    assert abs(ratio - 1.0) < 0.02
    assert abs(events.sum() / sessions.sum() - usage.key_events_per_session) < 0.02
    lost = lost_trials(g, np.full(4_000, 30), 0.3)  # Poisson(30 * 0.7 / 0.3 = 70)
    assert abs(lost.mean() - 70.0) < 4 * np.sqrt(70.0 / lost.size)
    assert lost_trials(g, np.zeros(0, np.int64), 0.3).size == 0


def test_history_lives_in_record():
    assert cs_sim.sim.History is record.History
    res = cs_sim.simulate(cs_sim.load_scenario(BASELINE).with_changes(
        {"population": {"n_accounts": 40}, "horizon_months": 3}), replications=1, seed=4,
        record=True)
    h = res.history
    assert isinstance(h, record.History)
    csat = h.surveys[h.surveys["kind"] == "csat"]
    assert csat["score"].between(1, 5).all() and len(csat) <= len(h.tickets)


def test_bad_options_are_reported(tmp_path):
    with pytest.raises(ScenarioError, match="months"):
        generate_company(BASELINE, seed=1, months=1)
    with pytest.raises(ScenarioError, match="accounts"):
        generate_company(BASELINE, seed=1, n_accounts=0)
    with pytest.raises(ScenarioError, match="start_month"):
        generate_company(BASELINE, seed=1, start_month="2024-13")
    with pytest.raises(ScenarioError, match="not found"):
        generate_company(tmp_path / "nonexistent.yaml", seed=1)
    from_data = tmp_path / "from_data.yaml"
    from_data.write_text(f"extends: {BASELINE}\npopulation: {{source: dataset}}\n")
    with pytest.raises(ScenarioError, match="population.source"):
        generate_company(from_data, seed=1)


def test_refuses_non_empty_folder_and_replaces_with_force(company, tmp_path):
    target = tmp_path / "co"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(CsSimError, match="not empty"):
        write_company(company, target)
    assert (target / "notes.txt").read_text() == "mine"
    write_company(company, target, force=True)
    assert not (target / "notes.txt").exists()
    assert (target / "mrr.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["co"]  # no temp folders left


def test_failed_write_leaves_nothing(company, tmp_path, monkeypatch):
    import cs_sim.io

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(cs_sim.io, "write_dataset", boom)
    with pytest.raises(OSError, match="disk full"):
        write_company(company, tmp_path / "co")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------ data/sample
@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((SAMPLE / "manifest.json").read_text())


def test_sample_files_match_their_manifest(manifest):
    files = manifest["files"]
    assert set(files) == {f"{t}.csv" for t in TABLES} | {"ground_truth.json"}
    for name, meta in files.items():
        assert _sha(SAMPLE / name) == meta["sha256"], name
    total = sum(p.stat().st_size for p in SAMPLE.iterdir())
    assert total < 25e6


def test_sample_regenerates_byte_for_byte(manifest, tmp_path, monkeypatch):
    # the manifest's command, run in another folder under the same relative name
    opts = manifest["options"]
    monkeypatch.chdir(tmp_path)
    generate("data/sample", ROOT / opts["scenario"], seed=opts["seed"],
             n_accounts=opts["accounts"], months=opts["months"],
             start_month=opts["start_month"], format=opts["format"])
    out = tmp_path / "data" / "sample"
    for name, meta in manifest["files"].items():
        assert _sha(out / name) == meta["sha256"], name
    assert json.loads((out / "manifest.json").read_text()) == manifest
    # the README (made from the data by a template) is regenerated as committed too
    assert (out / "README.md").read_text() == (SAMPLE / "README.md").read_text()


def test_sample_readme_shows_the_kpis_of_its_data(manifest, monkeypatch):
    monkeypatch.chdir(ROOT)
    readme = (SAMPLE / "README.md").read_text()
    ds = load_dataset("data/sample")
    assert headline_kpis_text(ds) in readme
    assert f"--seed {manifest['options']['seed']}" in readme
    assert ds.accounts["segment"].nunique() == 3
    paying_end = ds.mrr[ds.mrr["month"] == ds.mrr["month"].max()]
    assert 1500 < len(paying_end) < 2500  # "about 2,000 paying customers"
