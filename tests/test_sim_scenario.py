"""Scenario specification: templates, validation messages, extends, JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cs_sim.errors import ScenarioError
from cs_sim.sim.scenario import (
    Scenario,
    deep_merge,
    load_scenario,
    scenario_from_dict,
    scenario_json_schema,
    scenario_json_schema_text,
)

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates" / "scenarios"
NAMES = ["baseline", "more_csms", "retiering", "onboarding_programme", "save_play",
         "tech_touch_long_tail"]


@pytest.mark.parametrize("name", NAMES)
def test_templates_load(name: str) -> None:
    sc = load_scenario(TEMPLATES / f"{name}.yaml")
    assert sc.name == name
    assert [t.name for t in sc.tiers] == ["high_touch", "low_touch", "tech_touch"]


def test_baseline_has_one_play_of_each_kind() -> None:
    sc = load_scenario(TEMPLATES / "baseline.yaml")
    assert {i.kind for i in sc.interventions} == {"time", "data", "trigger"}


def test_extends_merges_named_lists_by_name() -> None:
    base = load_scenario(TEMPLATES / "baseline.yaml")
    more = load_scenario(TEMPLATES / "more_csms.yaml")
    # only the headcounts changed: 4 -> 6 and 3 -> 5; the rest is inherited
    assert [t.team.headcount for t in more.tiers] == [6, 5, 1]
    assert [t.team.cost_per_month for t in more.tiers] == [t.team.cost_per_month
                                                           for t in base.tiers]
    assert more.tiers[0].rule == base.tiers[0].rule
    assert more.interventions == base.interventions
    save = load_scenario(TEMPLATES / "save_play.yaml")
    assert [i.name for i in save.interventions] == [
        *[i.name for i in base.interventions], "save_play"]
    assert save.interventions[-1].condition[0].value == 40.0
    assert save.extends == "baseline.yaml"


def test_deep_merge_rules() -> None:
    parent = {"a": {"b": 1, "c": [1, 2]}, "items": [{"name": "x", "v": 1}, {"name": "y", "v": 2}]}
    child = {"a": {"c": [3]}, "items": [{"name": "y", "v": 5}, {"name": "x", "remove": True},
                                        {"name": "z", "v": 0}]}
    out = deep_merge(parent, child)
    assert out == {"a": {"b": 1, "c": [3]}, "items": [{"name": "y", "v": 5}, {"name": "z", "v": 0}]}
    assert parent["items"][0] == {"name": "x", "v": 1}  # inputs untouched


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_error_names_file_path_and_value(tmp_path: Path) -> None:
    p = _write(tmp_path, "bad.yaml", f"""\
extends: {TEMPLATES / 'baseline.yaml'}
interventions:
  - name: low_usage_check
    effect: {{hazard_multiplier: -0.2}}
""")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(p)
    # low_usage_check is the baseline's second intervention: index 1
    assert str(exc.value) == (
        "bad.yaml: interventions[1].effect.hazard_multiplier: must be > 0 (got -0.2)"
    )


def test_unknown_key_and_several_errors(tmp_path: Path) -> None:
    p = _write(tmp_path, "typo.yaml", """\
horizon_months: 0
tiers:
  - name: tech_touch
    team: {headcount: 2, hourz: 3}
""")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(p)
    lines = str(exc.value).splitlines()
    assert lines[0] == "typo.yaml: horizon_months: must be >= 1 (got 0)"
    assert lines[1].startswith("typo.yaml: tiers[0].team.hourz: unknown key")


def test_cross_reference_errors() -> None:
    data = {
        "tiers": [{"name": "high", "rule": [{"attribute": "arr", "op": ">=", "value": 1e5}]},
                  {"name": "rest"}],
        "interventions": [{"name": "x", "kind": "data", "tiers": ["mid"],
                           "condition": [{"metric": "health", "op": "<", "value": 40}]}],
    }
    with pytest.raises(ScenarioError, match=r"interventions\[0\]\.tiers\[0\]: unknown tier 'mid'"):
        scenario_from_dict(data, source="s.yaml")
    bad_last = {"tiers": [{"name": "a", "rule": [{"attribute": "arr", "op": ">", "value": 1}]}]}
    with pytest.raises(ScenarioError, match=r"tiers\[0\]\.rule: the last tier must have"):
        scenario_from_dict(bad_last)


@pytest.mark.parametrize(
    ("iv", "message"),
    [
        ({"kind": "time"}, "needs a 'schedule'"),
        ({"kind": "trigger", "trigger": {"event": "usage_drop"}}, "usage_drop needs a threshold"),
        ({"kind": "data", "condition": [{"metric": "health", "op": "=<", "value": 4}]},
         "op: must be one of"),
        ({"kind": "data", "condition": [{"metric": "mood", "op": "<", "value": 4}]},
         "metric: must be one of"),
        ({"kind": "time", "schedule": {"every_months": 3}, "owner": "csm", "hours": 0},
         "needs hours > 0"),
        ({"kind": "time", "schedule": {"every_months": 3}, "reach": 1.5}, "reach: must be <= 1"),
    ],
)
def test_intervention_validation(iv: dict, message: str) -> None:
    data = {"interventions": [{"name": "p", "tiers": ["tech_touch"], **iv}]}
    with pytest.raises(ScenarioError, match=message):
        scenario_from_dict(data)


def test_triggers_are_data_not_code(tmp_path: Path) -> None:
    # a python object tag must not be constructed (yaml.safe_load)
    p = _write(tmp_path, "evil.yaml", "name: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(p)
    with pytest.raises(ScenarioError, match="attribute 'arr' compares with a number"):
        scenario_from_dict({"tiers": [{"name": "a", "rule": [
            {"attribute": "arr", "op": ">", "value": "__import__('os')"}]}, {"name": "b"}]})


def test_missing_file_and_circular_extends(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario(tmp_path / "nope.yaml")
    _write(tmp_path, "a.yaml", "extends: b.yaml\n")
    _write(tmp_path, "b.yaml", "extends: a.yaml\n")
    with pytest.raises(ScenarioError, match="circular"):
        load_scenario(tmp_path / "a.yaml")


def test_frozen_and_with_changes() -> None:
    sc = load_scenario(TEMPLATES / "baseline.yaml")
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        sc.horizon_months = 3  # type: ignore[misc]
    v = sc.with_changes({"tiers": [{"name": "low_touch", "team": {"headcount": 9}}]})
    assert v.tiers[1].team.headcount == 9 and sc.tiers[1].team.headcount == 3
    with pytest.raises(ScenarioError, match="headcount: must be >= 0"):
        sc.with_changes({"tiers": [{"name": "low_touch", "team": {"headcount": -1}}]})


def test_defaults_validate() -> None:
    sc = Scenario()
    assert sc.tiers[0].name == "tech_touch" and sc.segments[0].name == "all"


def test_committed_json_schema_is_up_to_date() -> None:
    committed = (TEMPLATES / "scenario.schema.json").read_text(encoding="utf-8")
    assert committed == scenario_json_schema_text(), (
        "regenerate: python -c \"from cs_sim.sim.scenario import scenario_json_schema_text;"
        " open('templates/scenarios/scenario.schema.json','w').write("
        "scenario_json_schema_text())\""
    )
    schema = scenario_json_schema()
    assert schema["additionalProperties"] is False
    assert "interventions" in schema["properties"]
    json.dumps(schema)


def test_templates_validate_against_json_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    schema = scenario_json_schema()
    for name in NAMES:
        data = yaml.safe_load((TEMPLATES / f"{name}.yaml").read_text(encoding="utf-8"))
        if "extends" not in data:
            jsonschema.validate(data, schema)


def test_unknown_key_suggests_the_closest_allowed_key(tmp_path: Path) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text(
        "extends: " + str(TEMPLATES / "baseline.yaml") + "\n"
        "acquisition: {new_logos_per_mnth: 3}\n"
        "tiers:\n  - name: high_touch\n    team: {headcont: 2}\n"
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    text = str(info.value)
    typo = "acquisition.new_logos_per_mnth: unknown key; did you mean 'new_logos_per_month'?"
    assert typo in text
    assert "tiers[0].team.headcont: unknown key; did you mean 'headcount'?" in text


def test_bad_yaml_names_file_line_and_column(tmp_path: Path) -> None:
    p = _write(tmp_path, "broken.yaml", "name: x\nhorizon_months: 12\n  tiers: 3\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(p)
    # line 3, column 8 is where an editor shows the stray ':' after the indented key
    assert str(info.value).startswith("broken.yaml: not valid YAML at line 3, column 8: ")
    assert load_scenario(_write(tmp_path, "empty.yaml", "")).name == "empty"  # defaults
    _write(tmp_path, "list.yaml", "- a\n- b\n")
    with pytest.raises(ScenarioError, match="list.yaml: the scenario must be a YAML mapping"):
        load_scenario(tmp_path / "list.yaml")
