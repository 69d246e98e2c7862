"""The what-if panel without a browser: its model, its runner, its widgets and the CLI.

Expected values come from the scenario templates as written by hand (read here with
``yaml.safe_load``, not through the code under test) and from the ``extends`` rules.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import cs_sim
from cs_sim.cli import app
from cs_sim.errors import ScenarioError
from cs_sim.sim.scenario_io import deep_merge, scenario_from_dict
from cs_sim.sim.uncertainty import scenario_data
from cs_sim.widgets.changes import scenario_changes
from cs_sim.widgets.model import Job, PanelModel, control_values, panel_controls
from cs_sim.widgets.runner import BackgroundRunner

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates" / "scenarios"
BASELINE = TEMPLATES / "baseline.yaml"
IDENTITY = ("name", "description", "extends")


def _raw(name: str) -> dict:
    """A template as written (plain YAML, no extends resolved)."""
    return yaml.safe_load((TEMPLATES / name).read_text())


def _what_it_does(sc: cs_sim.Scenario) -> dict:
    data = scenario_data(sc)
    return {k: v for k, v in data.items() if k not in IDENTITY}


def small_baseline(folder: Path) -> Path:
    """A small, fast baseline: the template with 300 accounts, 12 + 12 months."""
    path = folder / "small_baseline.yaml"
    path.write_text(f"extends: {BASELINE}\nname: small_baseline\n"
                    "population: {n_accounts: 300}\nhorizon_months: 12\nwarmup_months: 12\n"
                    "acquisition: {new_logos_per_month: 6}\n")
    return path


@pytest.fixture(scope="module")
def baseline() -> cs_sim.Scenario:
    return cs_sim.load_scenario(BASELINE)


# --------------------------------------------------------------------------- controls
def test_controls_read_the_values_written_in_the_template(baseline) -> None:
    raw = _raw("baseline.yaml")
    values = control_values(baseline, replications=7)
    tiers = {t["name"]: t for t in raw["tiers"]}
    for name, tier in tiers.items():
        assert values[f"tier.{name}.headcount"] == tier["team"]["headcount"]
        assert values[f"tier.{name}.cost"] == tier["team"]["cost_per_month"]
    assert values["tier.high_touch.threshold"] == tiers["high_touch"]["rule"][0]["value"]
    assert values["tier.low_touch.threshold"] == tiers["low_touch"]["rule"][0]["value"]
    assert "tier.tech_touch.threshold" not in values  # the last tier takes the rest
    for play in raw["plays"]:
        assert values[f"play.{play['name']}.on"] is True
        assert values[f"play.{play['name']}.effect"] == play["effect"]["hazard_multiplier"]
        assert values[f"play.{play['name']}.range"] == 0.0
    assert values["onboarding.high_touch"] == raw["onboarding"]["hours"]["high_touch"]
    assert values["onboarding.tech_touch"] == 0.0  # absent: automated
    assert values["horizon_months"] == raw["horizon_months"]
    assert values["replications"] == 7
    assert {c.key for c in panel_controls(baseline)} == set(values)


def test_a_headcount_control_changes_that_team_and_nothing_else(baseline) -> None:
    model = PanelModel(baseline)
    model.set("tier.high_touch.headcount", 6)
    assert model.changes() == {"tiers": [{"name": "high_touch", "team": {"headcount": 6}}]}
    variant = model.variant()
    assert variant.tiers[0].team.headcount == 6
    expected = _what_it_does(baseline)
    expected["tiers"][0]["team"]["headcount"] = 6
    assert _what_it_does(variant) == expected


def test_two_headcount_controls_make_the_more_csms_template(baseline) -> None:
    raw = _raw("more_csms.yaml")
    model = PanelModel(baseline)
    for tier in raw["tiers"]:
        model.set(f"tier.{tier['name']}.headcount", tier["team"]["headcount"])
    assert _what_it_does(model.variant()) == _what_it_does(
        cs_sim.load_scenario(TEMPLATES / "more_csms.yaml"))


def test_threshold_controls_make_the_retiering_template(baseline) -> None:
    raw = _raw("retiering.yaml")
    model = PanelModel(baseline)
    for tier in raw["tiers"]:
        model.set(f"tier.{tier['name']}.threshold", tier["rule"][0]["value"])
    variant = model.variant()
    assert _what_it_does(variant) == _what_it_does(
        cs_sim.load_scenario(TEMPLATES / "retiering.yaml"))
    assert variant.tiers[1].rule[0].value == raw["tiers"][1]["rule"][0]["value"]


def test_onboarding_and_retention_controls(baseline) -> None:
    raw = _raw("onboarding_programme.yaml")
    model = PanelModel(baseline)
    for tier, hours in raw["onboarding"]["hours"].items():
        model.set(f"onboarding.{tier}", hours)
    model.set("retention.early_life_churn", -0.2)  # "lower early-life churn by 20%"
    variant = model.variant()
    assert variant.onboarding.hours == raw["onboarding"]["hours"]
    (rc,) = variant.retention_changes
    assert (rc.name, rc.target, rc.multiplier) == ("panel_early_life_churn",
                                                   "early_life_churn", pytest.approx(0.8))
    assert rc.segments is None and rc.tiers is None  # every account
    # the change reads back as the control's value, and moving it back removes it
    assert control_values(variant)["retention.early_life_churn"] == pytest.approx(-0.2)
    start = PanelModel(baseline, start=variant)
    start.set("retention.early_life_churn", 0.0)
    assert start.variant().retention_changes == []


def test_play_controls_switch_off_and_give_an_uncertainty_range(baseline) -> None:
    model = PanelModel(baseline)
    model.set("play.qbr.on", False)
    assert [p.name for p in model.variant().plays] == [
        p["name"] for p in _raw("baseline.yaml")["plays"] if p["name"] != "qbr"]
    model.set("play.qbr.on", True)
    model.set("play.champion_change.effect", 0.6)
    model.set("play.champion_change.range", 0.2)
    variant = model.variant()
    dist = variant.uncertain["plays.champion_change.effect.hazard_multiplier"]
    assert (dist.dist, dist.low, dist.high) == ("uniform", pytest.approx(0.4),
                                                pytest.approx(0.8))
    play = {p.name: p for p in variant.plays}["champion_change"]
    assert play.effect.hazard_multiplier == pytest.approx(0.6)  # the median of uniform(.4, .8)
    # the range reads back as the control's value
    assert control_values(variant)["play.champion_change.range"] == pytest.approx(0.2)


def test_controls_back_at_their_start_make_no_change(baseline) -> None:
    model = PanelModel(baseline)
    model.set("tier.low_touch.headcount", 9)
    model.set("tier.low_touch.headcount", 3)
    assert model.changes() == {}
    assert model.variant() is baseline


def test_the_horizon_control_runs_both_scenarios_over_it(baseline) -> None:
    model = PanelModel(baseline)
    model.set("horizon_months", 12)
    job = model.request()
    assert job.baseline.horizon_months == job.variant.horizon_months == 12
    assert scenario_changes(baseline, job.baseline) == {"horizon_months": 12}


def test_a_picked_scenario_starts_the_controls(baseline) -> None:
    picked = cs_sim.load_scenario(TEMPLATES / "save_play.yaml")
    model = PanelModel(baseline, start=picked)
    assert model.values["play.save_play.effect"] == (
        _raw("save_play.yaml")["plays"][0]["effect"]["hazard_multiplier"])
    assert model.variant() is picked  # nothing moved yet
    model.set("play.save_play.on", False)
    assert _what_it_does(model.variant()) == _what_it_does(baseline)


# --------------------------------------------------------------------------- differences
@pytest.mark.parametrize("name", ["more_csms.yaml", "retiering.yaml", "save_play.yaml",
                                  "onboarding_programme.yaml", "tech_touch_long_tail.yaml",
                                  "sample_company.yaml"])
def test_scenario_changes_inverts_the_extends_merge(baseline, name: str) -> None:
    variant = cs_sim.load_scenario(TEMPLATES / name)
    body = scenario_changes(baseline, variant)
    merged = scenario_from_dict(deep_merge(scenario_data(baseline), body))
    assert _what_it_does(merged) == _what_it_does(variant)
    # and says no more than the hand-written file
    raw = {k: v for k, v in _raw(name).items() if k not in IDENTITY}
    assert set(body) <= set(raw)


def test_scenario_changes_of_the_more_csms_template_is_its_file(baseline) -> None:
    variant = cs_sim.load_scenario(TEMPLATES / "more_csms.yaml")
    raw = {k: v for k, v in _raw("more_csms.yaml").items() if k not in IDENTITY}
    assert scenario_changes(baseline, variant) == raw


def test_scenario_changes_names_a_removed_play(baseline) -> None:
    variant = baseline.with_changes({"plays": [{"name": "qbr", "remove": True}]})
    assert scenario_changes(baseline, variant) == {"plays": [{"name": "qbr", "remove": True}]}
    assert scenario_changes(baseline, baseline) == {}


# --------------------------------------------------------------------------- saving
def test_save_as_round_trips_through_load_scenario(tmp_path: Path, baseline) -> None:
    model = PanelModel(baseline, BASELINE)
    model.set("tier.high_touch.headcount", 6)
    model.set("tier.low_touch.threshold", 8000.0)
    model.set("play.qbr.on", False)
    model.set("play.low_usage_check.effect", 0.7)
    model.set("play.low_usage_check.range", 0.1)
    path = model.save(tmp_path / "my_whatif")
    assert path == tmp_path / "my_whatif.yaml"
    loaded = cs_sim.load_scenario(path)
    assert loaded.name == "my_whatif"
    assert _what_it_does(loaded) == _what_it_does(model.variant())
    assert loaded.uncertain == model.variant().uncertain
    written = yaml.safe_load(path.read_text())
    # it extends the baseline's file and gives only what differs
    assert (tmp_path / written["extends"]).resolve() == BASELINE
    assert set(written) == {"extends", "name", "description", "tiers", "plays"}
    assert written["tiers"] == [
        {"name": "high_touch", "team": {"headcount": 6}},
        {"name": "low_touch", "rule": [{"attribute": "arr", "op": ">=", "value": 8000.0}]}]
    assert {"name": "qbr", "remove": True} in written["plays"]
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_a_saved_scenario_runs_with_cs_sim_simulate(tmp_path: Path) -> None:
    base_path = small_baseline(tmp_path)
    model = PanelModel(cs_sim.load_scenario(base_path), base_path)
    model.set("tier.high_touch.headcount", 7)
    path = model.save(tmp_path / "seven.yaml")
    result = CliRunner().invoke(app, ["simulate", str(path), "-r", "2", "--seed", "3",
                                      "--json", "--no-progress"])
    assert result.exit_code == 0, result.output
    import json

    doc = json.loads(result.output)
    assert doc["scenario"] == "seven"
    assert doc["tiers"]["high_touch"]["headcount"]["mean"] == 7  # a constant team of 7


def test_save_refuses_to_overwrite_or_to_save_without_a_file(tmp_path: Path, baseline) -> None:
    model = PanelModel(baseline, BASELINE)
    model.set("tier.high_touch.headcount", 5)
    existing = tmp_path / "taken.yaml"
    existing.write_text("name: mine\n")
    with pytest.raises(ScenarioError, match="taken.yaml: the file exists"):
        model.save(existing)
    assert existing.read_text() == "name: mine\n"  # never modified
    with pytest.raises(ScenarioError, match="baseline's own file"):
        model.save(BASELINE, overwrite=True)
    with pytest.raises(ScenarioError, match=r"ends in \.yaml"):
        model.save(tmp_path / "notes.txt")
    with pytest.raises(ScenarioError, match="needs the baseline's YAML file"):
        PanelModel(baseline).save(tmp_path / "x.yaml")


# --------------------------------------------------------------------------- staleness
def test_a_stale_result_is_discarded(baseline) -> None:
    model = PanelModel(baseline)
    drawn: list[int] = []
    first = model.request()
    model.set("tier.high_touch.headcount", 6)
    second = model.request()
    assert (first.generation, second.generation) == (1, 2)
    assert not model.is_current(first)
    assert model.accept(first, "old", lambda: drawn.append(1)) is False
    assert model.accept(second, "new", lambda: drawn.append(2)) is True
    assert drawn == [2] and model.result == "new" and model.shown == 2
    # a result that arrives after a newer one was drawn is never drawn over it
    assert model.accept(first, "old", lambda: drawn.append(1)) is False
    assert drawn == [2]


class _SlowModel(PanelModel):
    """A model whose first run waits until released (to make it finish last)."""

    release: threading.Event
    started: threading.Event
    ran: list[int]

    def run(self, job: Job, progress=None):  # type: ignore[override]
        self.ran.append(job.generation)
        self.started.set()
        if job.generation == 1:
            assert self.release.wait(10)
        return f"result {job.generation}"


def test_the_runner_never_draws_a_result_a_later_change_made_stale(baseline) -> None:
    model = _SlowModel(baseline)
    model.release, model.started, model.ran = threading.Event(), threading.Event(), []
    drawn: list[tuple[int, str]] = []
    runner = BackgroundRunner(model, lambda job, result: result,
                              lambda job, result, rendered: drawn.append((job.generation,
                                                                          rendered)),
                              debounce=0.0)
    runner.submit()  # request 1 starts and blocks
    assert model.started.wait(10)
    model.set("tier.high_touch.headcount", 6)
    runner.submit()  # request 2 queues behind it
    model.set("tier.high_touch.headcount", 7)
    runner.submit()  # request 3: request 2 is stale before it starts
    model.release.set()
    assert runner.wait(10)
    assert drawn == [(3, "result 3")]
    assert model.ran == [1, 3]  # request 2 was skipped, request 1 ran but was not drawn


def test_the_debounce_merges_quick_changes_into_one_run(baseline) -> None:
    model = _SlowModel(baseline)
    model.release, model.started, model.ran = threading.Event(), threading.Event(), []
    model.release.set()
    runner = BackgroundRunner(model, lambda job, result: result, lambda *a: None,
                              debounce=0.5)
    for n in (5, 6, 7):
        model.set("tier.high_touch.headcount", n)
        runner.submit()
    assert runner.wait(10)
    assert len(model.ran) == 1  # three changes within the debounce: one run
    assert model.result == f"result {model.ran[0]}"


# --------------------------------------------------------------------------- the widgets
def test_the_panel_redraws_what_a_control_changes(tmp_path: Path) -> None:
    from cs_sim.widgets import whatif_panel

    base_path = small_baseline(tmp_path)
    panel = whatif_panel(base_path, replications=3, seed=5, debounce=0.0, templates=False)
    assert panel.wait(120)
    first = panel.rendered
    assert first is not None and first.forest[:8] == b"\x89PNG\r\n\x1a\n"
    assert "4 \u2192 4" in first.tiers  # high_touch CSMs, baseline -> variant
    panel.set("tier.high_touch.headcount", 6)
    assert panel.wait(120)
    cmp = panel.model.result
    assert cmp.variant.scenario.tiers[0].team.headcount == 6
    assert cmp.variant.per_tier.query("tier == 'high_touch'")["headcount"].eq(6).all()
    assert "4 \u2192 6" in panel.rendered.tiers
    assert panel.rendered.forest != first.forest and panel.rendered.fan != first.fan
    assert panel.forest.value == panel.rendered.forest  # what is drawn is the newest
    assert "Up to date (request 2" in panel.status.value
    # the figures shown are the comparison's own: the same as cs_sim.compare
    direct = cs_sim.compare(panel.model.baseline, panel.model.variant(), replications=3,
                            seed=5)
    assert direct.decision().profit_change == pytest.approx(cmp.decision().profit_change)
    # save as scenario from the panel
    path = panel.save("six")
    assert cs_sim.load_scenario(path).tiers[0].team.headcount == 6


def test_the_picker_offers_templates_and_starts_from_one(tmp_path: Path) -> None:
    from cs_sim.widgets import whatif_panel

    panel = whatif_panel(small_baseline(tmp_path), replications=2, seed=1, debounce=0.0)
    keys = dict((v, k) for k, v in panel.picker.options)
    more = next(k for k in keys if k.startswith("template:") and k.endswith("more_csms.yaml"))
    assert panel.wait(120)
    panel.picker.value = more
    assert panel.wait(120)
    raw = _raw("more_csms.yaml")
    for tier in raw["tiers"]:
        assert panel.controls[f"tier.{tier['name']}.headcount"].value == (
            tier["team"]["headcount"])


# --------------------------------------------------------------------------- the CLI
def test_cs_sim_panel_rejects_a_bad_scenario_and_a_busy_port(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["panel", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2
    assert "nope.yaml" in missing.output and "file not found" in missing.output
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        taken = runner.invoke(app, ["panel", str(BASELINE), "--port", str(port)])
    assert taken.exit_code == 2
    assert f"port {port}" in taken.output and "in use" in taken.output


def test_cs_sim_panel_help_names_the_command() -> None:
    result = CliRunner().invoke(app, ["panel", "--help"])
    assert result.exit_code == 0
    assert "what-if panel" in result.output and "--port" in result.output


def test_scenario_changes_keeps_a_field_set_to_none(baseline) -> None:
    no_onboarding = baseline.with_changes({"onboarding": None})
    body = scenario_changes(baseline, no_onboarding)
    assert body == {"onboarding": None}
    merged = scenario_from_dict(deep_merge(scenario_data(baseline), body))
    assert merged.onboarding is None
