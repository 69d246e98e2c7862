"""Scenario specification: templates, validation messages, extends, JSON Schema."""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import pytest

from cs_sim.errors import ScenarioError
from cs_sim.sim.scenario import Scenario
from cs_sim.sim.scenario_io import (
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
    assert {p.kind for p in sc.plays} == {"time", "data", "trigger"}


def test_extends_merges_named_lists_by_name() -> None:
    base = load_scenario(TEMPLATES / "baseline.yaml")
    more = load_scenario(TEMPLATES / "more_csms.yaml")
    # only the headcounts changed: 4 -> 6 and 3 -> 5; the rest is inherited
    assert [t.team.headcount for t in more.tiers] == [6, 5, 1]
    assert [t.team.cost_per_month for t in more.tiers] == [t.team.cost_per_month
                                                           for t in base.tiers]
    assert more.tiers[0].rule == base.tiers[0].rule
    assert more.plays == base.plays
    save = load_scenario(TEMPLATES / "save_play.yaml")
    assert [p.name for p in save.plays] == [*[p.name for p in base.plays], "save_play"]
    assert save.plays[-1].condition[0].value == 40.0
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
plays:
  - name: low_usage_check
    effect: {{hazard_multiplier: -0.2}}
""")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(p)
    # low_usage_check is the baseline's second play: index 1
    assert str(exc.value) == (
        "bad.yaml: plays[1].effect.hazard_multiplier: must be > 0 (got -0.2)"
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
        "plays": [{"name": "x", "kind": "data", "tiers": ["mid"],
                   "condition": [{"metric": "health", "op": "<", "value": 40}]}],
    }
    with pytest.raises(ScenarioError, match=r"plays\[0\]\.tiers\[0\]: unknown tier 'mid'"):
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
def test_play_validation(iv: dict, message: str) -> None:
    data = {"plays": [{"name": "p", "tiers": ["tech_touch"], **iv}]}
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
        "regenerate: python -c \"from cs_sim.sim.scenario_io import scenario_json_schema_text;"
        " open('templates/scenarios/scenario.schema.json','w').write("
        "scenario_json_schema_text())\""
    )
    schema = scenario_json_schema()
    assert schema["additionalProperties"] is False
    assert "plays" in schema["properties"] and "interventions" not in schema["properties"]
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


# ------------------------------------------------- 'interventions' renamed to 'plays'
_PLAY_YAML = """\
  - name: nudge
    kind: trigger
    trigger: {event: detractor}
    tiers: [tech_touch]
    owner: automated
    hours: 0
"""


def _deprecation_message(name: str) -> str:
    return (f"{name}: 'interventions' is now called 'plays'; rename the key (it will stop "
            "working in a later release)")


def test_old_key_interventions_loads_with_a_deprecation_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    new = load_scenario(_write(tmp_path, "new.yaml", "name: s\nplays:\n" + _PLAY_YAML))
    old_path = _write(tmp_path, "old.yaml", "name: s\ninterventions:\n" + _PLAY_YAML)
    with caplog.at_level(logging.WARNING, logger="cs_sim.sim.scenario_io"), \
            pytest.warns(DeprecationWarning) as record:
        old = load_scenario(old_path)
    assert old == new and [p.name for p in old.plays] == ["nudge"]
    assert [str(w.message) for w in record] == [_deprecation_message("old.yaml")]
    assert record[0].filename == __file__  # points at the caller, not into cs_sim
    assert caplog.messages == [_deprecation_message("old.yaml")]


def test_old_key_in_an_extends_parent_merges_by_name(tmp_path: Path) -> None:
    # the parent still says 'interventions', the variant 'plays': merged by name as one list
    _write(tmp_path, "parent.yaml", "interventions:\n" + _PLAY_YAML)
    child = _write(tmp_path, "child.yaml", """\
extends: parent.yaml
plays:
  - name: nudge
    reach: 0.5
  - name: review
    kind: time
    schedule: {every_months: 6}
    tiers: [tech_touch]
""")
    with pytest.warns(DeprecationWarning) as record:
        sc = load_scenario(child)
    assert [str(w.message) for w in record] == [_deprecation_message("parent.yaml")]
    assert [(p.name, p.reach) for p in sc.plays] == [("nudge", 0.5), ("review", 1.0)]
    assert sc.plays[0].trigger is not None and sc.plays[0].trigger.event == "detractor"


def test_old_and_new_key_in_one_file_is_an_error(tmp_path: Path) -> None:
    p = _write(tmp_path, "both.yaml", "plays: []\ninterventions:\n" + _PLAY_YAML)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no deprecation warning: the file is refused
        with pytest.raises(ScenarioError) as info:
            load_scenario(p)
    assert str(info.value) == (
        "both.yaml: both 'interventions' and 'plays' are given; 'interventions' is the old "
        "name of 'plays': keep only 'plays'"
    )


def test_old_key_from_code_is_renamed_too() -> None:
    play = {"name": "p", "kind": "time", "schedule": {"every_months": 3},
            "tiers": ["tech_touch"]}
    with pytest.warns(DeprecationWarning, match="^gt.json: 'interventions' is now called"):
        sc = scenario_from_dict({"interventions": [play]}, source="gt.json")
    assert [p.name for p in sc.plays] == ["p"]
    with pytest.warns(DeprecationWarning, match="^scenario: 'interventions' is now called"):
        v = Scenario().with_changes({"interventions": [play]})
    assert v == sc


def test_the_readme_example_removes_and_inserts_plays_and_tiers(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in readme.split("```yaml\n")[1:]]
    (example,) = [b for b in blocks if "remove: true" in b]
    example = example.replace("extends: baseline.yaml", f"extends: {TEMPLATES / 'baseline.yaml'}")
    sc = load_scenario(_write(tmp_path, "mid_touch.yaml", example))
    base = load_scenario(TEMPLATES / "baseline.yaml")
    assert sc.tier_names() == ["high_touch", "low_touch", "mid_touch", "digital"]
    assert sc.tiers[:2] == base.tiers[:2]
    assert sc.tiers[2].rule[0].value == 5000 and sc.tiers[3].rule == []
    kept = [p.name for p in base.plays if p.name != "qbr"]
    assert [p.name for p in sc.plays] == [*kept, "renewal_call"]
    email = next(p for p in sc.plays if p.name == "detractor_email")
    base_email = next(p for p in base.plays if p.name == "detractor_email")
    assert email == base_email.model_copy(update={"tiers": ["digital"]})


def test_contract_values_come_from_the_table_list() -> None:
    from cs_sim.tables import CONTRACT_TYPES

    rule = [{"attribute": "contract", "op": "==", "value": "weekly"}]
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict({"tiers": [{"name": "a", "rule": rule}, {"name": "b"}]})
    assert str(info.value) == (
        "scenario: tiers[0].rule[0].value[0]: unknown contract 'weekly' (known: "
        f"{', '.join(CONTRACT_TYPES)})"
    )
