"""Health score: hand-calculated scores, renormalised weights, bands, percentile ranks
against scipy, and configuration validation."""

from __future__ import annotations

import copy
import filecmp
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cs_sim.errors import CsSimError
from cs_sim.kpis import (
    KpiConfigError,
    health_band_shares,
    health_config_from_dict,
    health_score,
    load_health_config,
)

ROOT = Path(__file__).resolve().parents[1]

CONFIG = {
    "components": {
        "usage": {"weight": 2, "metric": "seat_utilisation",
                  "normalisation": {"method": "minmax", "low": 0, "high": 1}},
        "support": {"weight": 1, "metric": "tickets_per_seat",
                    "normalisation": {"method": "minmax", "low": 0, "high": 0.5, "invert": True}},
        "financial": {"weight": 1, "metric": "mrr_change", "lookback_months": 1,
                      "normalisation": {"method": "minmax", "low": -0.5, "high": 0.5}},
    },
    "bands": {"red": 0, "yellow": 40, "green": 70},
}


def frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    mrr = pd.DataFrame({"account_id": ["A", "B", "A", "B", "C"],
                        "month": pd.to_datetime(["2024-01-01"] * 2 + ["2024-02-01"] * 3),
                        "mrr": [100.0, 100.0, 120.0, 50.0, 80.0]})
    usage = pd.DataFrame({"account_id": ["A", "B"],
                          "month": pd.to_datetime(["2024-02-01"] * 2),
                          "active_users": [8, 2], "seats": [10, 10], "sessions": [1, 1],
                          "minutes": [1.0, 1.0], "key_feature_events": [1, 1]})
    tickets = pd.DataFrame({"ticket_id": ["t1", "t2", "t3"], "account_id": ["B"] * 3,
                            "opened_at": pd.to_datetime(["2024-02-01", "2024-02-10",
                                                         "2024-02-20"]),
                            "resolved_at": pd.to_datetime(["2024-02-02", None, None]),
                            "contacts_to_resolve": [1, 1, 1], "category": ["bug"] * 3,
                            "handle_minutes": [5.0] * 3})
    return mrr, usage, tickets


def test_health_score_hand() -> None:
    mrr, usage, tickets = frames()
    out = health_score(usage, mrr, tickets=tickets, config=CONFIG)
    feb = out[out["month"] == "2024-02-01"].set_index("account_id")
    # A: usage 8/10 = 0.8; support 0 tickets -> 1.0; financial 120/100 - 1 = 0.2 -> 0.7
    #    (2 x 0.8 + 1 x 1.0 + 1 x 0.7) / 4 = 0.825 -> 82.5, green
    assert feb.loc["A", "score"] == pytest.approx(82.5)
    assert feb.loc["A", "band"] == "green"
    assert feb.loc["A", "financial_value"] == pytest.approx(0.2)
    # B: usage 0.2; 3 tickets / 10 seats = 0.3 -> 1 - 0.6 = 0.4; 50/100 - 1 = -0.5 -> 0
    #    (0.4 + 0.4 + 0) / 4 = 0.2 -> 20, red
    assert feb.loc["B", "score"] == pytest.approx(20.0)
    assert feb.loc["B", "support_score"] == pytest.approx(40.0)
    assert feb.loc["B", "band"] == "red"
    # C: new (no MRR 1 month ago), no usage row -> nothing available -> no score
    assert math.isnan(feb.loc["C", "score"]) and pd.isna(feb.loc["C", "band"])
    assert feb.loc["C", "n_components"] == 0
    # Jan: first month, no usage -> unscored
    assert out[out["month"] == "2024-01-01"]["score"].isna().all()
    assert list(out.columns[:5]) == ["account_id", "month", "score", "band", "n_components"]


def test_health_weights_renormalised_without_a_table() -> None:
    mrr, usage, _ = frames()
    out = health_score(usage, mrr, config=CONFIG).set_index(["account_id", "month"])
    # no tickets: support unavailable, weights 2 + 1 remain
    # A: (2 x 0.8 + 0.7) / 3 = 0.76667; B: (2 x 0.2 + 0) / 3 = 0.13333
    assert out.loc[("A", pd.Timestamp("2024-02-01")), "score"] == pytest.approx(230 / 3)
    assert out.loc[("B", pd.Timestamp("2024-02-01")), "score"] == pytest.approx(40 / 3)
    assert out["support_score"].isna().all()
    # min_components: 3 leaves every account-month unscored
    strict = health_score(usage, mrr, config={**CONFIG, "min_components": 3})
    assert strict["score"].isna().all()


def test_band_boundaries() -> None:
    cfg = {"components": {"usage": {"weight": 1, "normalisation": {
        "method": "minmax", "low": 0, "high": 1}}},
        "bands": {"red": 0, "yellow": 40, "green": 70}}
    seats = 10_000
    active = [4_000, 7_000, 3_999, 6_999, 10_000, 0]
    ids = [f"a{i}" for i in range(len(active))]
    month = pd.to_datetime(["2024-01-01"] * len(ids))
    mrr = pd.DataFrame({"account_id": ids, "month": month, "mrr": 1.0})
    usage = pd.DataFrame({"account_id": ids, "month": month, "active_users": active,
                          "seats": seats, "sessions": 0, "minutes": 0.0,
                          "key_feature_events": 0})
    out = health_score(usage, mrr, config=cfg).set_index("account_id")
    # red < 40 <= yellow < 70 <= green
    assert out["band"].tolist() == ["yellow", "green", "red", "yellow", "green", "red"]
    np.testing.assert_allclose(out["score"], [40, 70, 39.99, 69.99, 100, 0])


def test_percentile_normalisation_matches_scipy() -> None:
    cfg = {"components": {"engagement": {"weight": 1, "metric": "key_events_per_active_user",
                                         "normalisation": {"method": "percentile"}}},
           "bands": {"low": 0, "high": 50}}
    events = [0, 10, 10, 30, 5, 50]
    ids = [f"a{i}" for i in range(len(events))]
    month = pd.to_datetime(["2024-01-01"] * len(ids))
    mrr = pd.DataFrame({"account_id": ids, "month": month, "mrr": 1.0})
    usage = pd.DataFrame({"account_id": ids, "month": month, "active_users": 1, "seats": 1,
                          "sessions": 0, "minutes": 0.0, "key_feature_events": events})
    out = health_score(usage, mrr, config=cfg).set_index("account_id")
    expected = [stats.percentileofscore(events, e, kind="mean") for e in events]
    np.testing.assert_allclose(out["engagement_score"], expected)
    # inverted: 100 - percentile
    cfg_inv = copy.deepcopy(cfg)
    cfg_inv["components"]["engagement"]["normalisation"]["invert"] = True
    inv = health_score(usage, mrr, config=cfg_inv).set_index("account_id")
    np.testing.assert_allclose(inv["engagement_score"], 100 - np.array(expected))


def test_sentiment_latest_answer_and_max_age() -> None:
    cfg = {"components": {"sentiment": {"weight": 1, "metric": "nps", "max_age_months": 2,
                                        "normalisation": {"method": "minmax", "low": 0,
                                                          "high": 10}}},
           "bands": {"red": 0, "green": 50}}
    months = pd.date_range("2024-01-01", periods=5, freq="MS")
    mrr = pd.DataFrame({"account_id": "A", "month": months, "mrr": 10.0})
    surveys = pd.DataFrame({
        "response_id": ["r1", "r2", "r3", "r4"], "account_id": ["A"] * 4,
        "date": pd.to_datetime(["2024-01-10", "2024-04-03", "2024-04-25", "2024-02-01"]),
        "kind": ["nps", "nps", "nps", "csat"], "score": [9, 2, 6, 5], "comment": ""})
    out = health_score(None, mrr, surveys=surveys, config=cfg)
    # Jan, Feb: the Jan answer (9) (age 0, 1); Mar: too old (age 2) -> NaN;
    # Apr, May: mean of April's answers (2 + 6) / 2 = 4; the csat answer is ignored
    np.testing.assert_allclose(out["sentiment_value"], [9, 9, np.nan, 4, 4])
    np.testing.assert_allclose(out["score"], [90, 90, np.nan, 40, 40])


def test_band_shares() -> None:
    mrr, usage, tickets = frames()
    out = health_score(usage, mrr, tickets=tickets, config=CONFIG)
    shares = health_band_shares(out, config=health_config_from_dict(CONFIG))
    feb = shares[shares["month"] == "2024-02-01"].set_index("band")
    # scored in Feb: A green, B red (C unscored)
    assert feb["accounts"].to_dict() == {"red": 1, "yellow": 0, "green": 1}
    assert feb["share"].to_dict() == {"red": 0.5, "yellow": 0.0, "green": 0.5}


# --------------------------------------------------------------------------- config
def test_default_config_files_identical_and_valid() -> None:
    packaged = ROOT / "cs_sim" / "resources" / "health_score.yaml"
    assert filecmp.cmp(packaged, ROOT / "templates" / "health_score.yaml", shallow=False)
    cfg = load_health_config()
    assert [c.name for c in cfg.components] == ["usage", "engagement", "support", "sentiment",
                                                 "financial"]
    assert [(b.name, b.min) for b in cfg.bands] == [("red", 0), ("yellow", 40), ("green", 70)]
    assert load_health_config(ROOT / "templates" / "health_score.yaml") == \
        health_config_from_dict(cfg_dict_from(packaged), source=str(
            ROOT / "templates" / "health_score.yaml"))


def cfg_dict_from(path: Path) -> dict:
    import yaml

    return yaml.safe_load(path.read_text())


def test_default_config_runs_on_all_tables() -> None:
    mrr, usage, tickets = frames()
    usage = usage.assign(key_feature_events=[40, 2])
    out = health_score(usage, mrr, tickets=tickets)
    assert {"usage_score", "engagement_score", "support_score", "sentiment_score",
            "financial_score"} <= set(out.columns)
    scored = out["score"].dropna()
    assert ((scored >= 0) & (scored <= 100)).all() and len(scored) == 2


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda c: c["components"].update(happiness={"weight": 1}), "components.happiness"),
        (lambda c: c["components"]["usage"].update(weight=0), "components.usage.weight"),
        (lambda c: c["components"]["usage"].update(weight=-1), "components.usage.weight"),
        (lambda c: c["components"]["usage"].update(weight="heavy"), "components.usage.weight"),
        (lambda c: c["components"]["usage"].update(metric="logins"), "components.usage.metric"),
        (lambda c: c["components"]["usage"].update(colour="red"), "components.usage.colour"),
        (lambda c: c["components"]["support"]["normalisation"].update(method="zscore"),
         "components.support.normalisation.method"),
        (lambda c: c["components"]["support"]["normalisation"].update(high=0),
         "components.support.normalisation.high"),
        (lambda c: c["components"]["financial"].update(lookback_months=0),
         "components.financial.lookback_months"),
        (lambda c: c.update(bands={"red": 0, "yellow": 70, "green": 40}), "bands.green"),
        (lambda c: c.update(bands={"red": 10, "green": 70}), "bands.red"),
        (lambda c: c.update(min_components=9), "min_components"),
        (lambda c: c.update(weights={}), "weights"),
    ],
)
def test_config_errors_name_file_and_key(tmp_path: Path, change, where: str) -> None:
    import yaml

    cfg = copy.deepcopy(CONFIG)
    change(cfg)
    path = tmp_path / "health.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    with pytest.raises(KpiConfigError) as info:
        load_health_config(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert where in message, message
    assert isinstance(info.value, CsSimError) and isinstance(info.value, ValueError)


def test_config_not_yaml_and_missing(tmp_path: Path) -> None:
    path = tmp_path / "h.yaml"
    path.write_text("components: [usage\n")
    with pytest.raises(KpiConfigError, match="not valid YAML"):
        load_health_config(path)
    with pytest.raises(KpiConfigError, match="cannot read"):
        load_health_config(tmp_path / "absent.yaml")
    # safe_load: python tags are rejected, not executed
    path.write_text("!!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(KpiConfigError, match="not valid YAML"):
        load_health_config(path)
