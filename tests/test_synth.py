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
    assert truth["period"] == {"first_month": "2024-01", "last_month": "2025-01", "months": 13}


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
    opts = manifest["options"]
    monkeypatch.chdir(ROOT)
    generate(tmp_path / "sample", opts["scenario"], seed=opts["seed"],
             n_accounts=opts["accounts"], months=opts["months"],
             start_month=opts["start_month"], format=opts["format"])
    for name, meta in manifest["files"].items():
        assert _sha(tmp_path / "sample" / name) == meta["sha256"], name


def test_sample_readme_shows_the_kpis_of_its_data(manifest, monkeypatch):
    monkeypatch.chdir(ROOT)
    readme = (SAMPLE / "README.md").read_text()
    ds = load_dataset("data/sample")
    assert headline_kpis_text(ds) in readme
    assert f"--seed {manifest['options']['seed']}" in readme
    assert ds.accounts["segment"].nunique() == 3
    paying_end = ds.mrr[ds.mrr["month"] == ds.mrr["month"].max()]
    assert 1500 < len(paying_end) < 2500  # "about 2,000 paying customers"
