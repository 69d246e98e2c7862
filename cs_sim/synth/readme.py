"""The README.md of a generated company folder, rendered from a jinja2 template.

The template is ``cs_sim/resources/templates/synth_readme.md.j2``; this module works
out its figures from the company's own data (the KPI library for the MRR bridge and
retention, the engine's record for churn by type and tenure) and passes them raw: the
template shows them with the filters ``pct``, ``money`` and ``count`` of
:mod:`cs_sim.format`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from cs_sim import format as fmt
from cs_sim.sim.record import EQUATIONS
from cs_sim.synth.params import GENERATOR_VERSION
from cs_sim.synth.tables import plan_names

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.io import Dataset
    from cs_sim.sim.scenario import Scenario
    from cs_sim.synth.company import SyntheticCompany

__all__ = ["headline_kpis_text", "render_readme"]

#: the template, under ``cs_sim/resources``
TEMPLATE = "templates/synth_readme.md.j2"


def headline_kpis_text(dataset: Dataset) -> str:
    """The headline table of ``cs-sim kpis`` (default window) for a dataset.

    Parameters
    ----------
    dataset : cs_sim.io.Dataset

    Returns
    -------
    str
        The first block of :meth:`cs_sim.baseline.KpiBaseline.to_text` (title line and
        headline table), as printed by ``cs-sim kpis FOLDER``.
    """
    from cs_sim.baseline import kpi_baseline

    text = kpi_baseline(dataset).to_text()
    return text.split("\n\nMRR bridge")[0].rstrip()


def render_readme(
    company: SyntheticCompany,
    files: Mapping[str, Mapping[str, Any]],
    command: str,
    format: str,
    folder: str,
) -> str:
    """Render the README.md of a company folder (every figure from its own data).

    Parameters
    ----------
    company : SyntheticCompany
    files : mapping
        File name -> ``{"bytes": ..., "rows": ...}`` (rows None for non-tables), in the
        order listed.
    command : str
        The command that regenerates the folder.
    format : str
        The tables' file format.
    folder : str
        The folder as the reader names it (in the ``cs-sim kpis`` line).

    Returns
    -------
    str
        Markdown, ending with a newline.
    """
    return _template().render(**_context(company, files, command, format, folder))


def _template() -> Any:
    from importlib.resources import files

    import jinja2

    env = jinja2.Environment(
        autoescape=False,  # Markdown, not HTML
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(pct=fmt.percent, money=fmt.money, count=fmt.count)
    text = files("cs_sim").joinpath("resources", *TEMPLATE.split("/")).read_text("utf-8")
    return env.from_string(text)


def _rule_text(rule: Sequence[Any]) -> str:
    if not rule:
        return "all other accounts"
    return " and ".join(f"{c.attribute} {c.op} {c.value:,g}" if isinstance(c.value, (int, float))
                        else f"{c.attribute} {c.op} {c.value}" for c in rule)


def _context(
    company: SyntheticCompany,
    files: Mapping[str, Mapping[str, Any]],
    command: str,
    format: str,
    folder: str,
) -> dict[str, Any]:
    """The template's variables: raw figures, and table rows as text cells."""
    from cs_sim.kpis import mrr_bridge, revenue_retention

    sc, ds, h = company.scenario, company.dataset, company.history
    acc, mrr = ds.accounts, ds.mrr
    months = sorted(mrr["month"].unique())
    first, last = pd.Timestamp(months[0]), pd.Timestamp(months[-1])
    prospect_ids = (set(ds.trials.loc[~ds.trials["converted"], "account_id"])
                    if ds.trials is not None else set())
    is_cust = ~acc["account_id"].isin(prospect_ids).to_numpy()
    at_first = mrr[mrr["month"] == first]
    at_last = mrr[mrr["month"] == last]
    bridge = mrr_bridge(mrr)
    window = revenue_retention(mrr, start=first, end=last).iloc[0]
    churned = int(bridge["churned_accounts"].sum())
    early_months = sc.behaviour.churn.early_life_months
    early_rate, late_rate = _churn_by_tenure(h.panel, h.accounts, early_months)
    return {
        "name": sc.name,
        "seed": company.seed,
        "description": " ".join(sc.description.split()) if sc.description else "",
        "files": [
            {"file": name, "rows": "" if meta.get("rows") is None else fmt.count(meta["rows"]),
             "MB": f"{meta['bytes'] / 1e6:.2f}"}
            for name, meta in files.items()
        ],
        "total_mb": f"{sum(meta['bytes'] for meta in files.values()) / 1e6:.1f}",
        "file_format": format,
        "first": f"{first:%Y-%m}",
        "last": f"{last:%Y-%m}",
        "n_months": len(months),
        "warmup": sc.warmup(),
        "n_rows": len(acc),
        "n_customers": int(is_cust.sum()),
        "n_prospects": int((~is_cust).sum()),
        "n_gone": int((is_cust & ~acc["account_id"].isin(set(mrr["account_id"])).to_numpy())
                      .sum()),
        "paying_first": len(at_first),
        "paying_last": len(at_last),
        "won": int(bridge["new_accounts"].sum()),
        "churned": churned,
        "segments": _segment_rows(sc, acc, acc[is_cust], mrr, at_last, last),
        "tiers": _tier_rows(sc, acc, set(at_last["account_id"]), last),
        "plays": _play_rows(sc, ds),
        "mrr_first": at_first["mrr"].sum(),
        "mrr_last": at_last["mrr"].sum(),
        "nrr": float(window["nrr"]),
        "grr": float(window["grr"]),
        "cohort_churn": float(window["logo_churn_rate"]),
        "monthly_churn": churned / max(bridge["start_accounts"].sum(), 1),
        "voluntary": int(h.monthly["churned_voluntary"].sum()),
        "involuntary": int(h.monthly["churned_involuntary"].sum()),
        "early_months": early_months,
        "early_rate": early_rate,
        "equations": [{"name": e.name.replace("_", " "), "text": e.text}
                      for e in EQUATIONS.values()],
        "late_rate": late_rate,
        "folder": folder,
        "headline": headline_kpis_text(replace(ds, source=folder)),
        "command": command,
        "cs_sim_version": company.ground_truth["cs_sim_version"],
        "generator_version": GENERATOR_VERSION,
        "options": ", ".join(f"{k}={v}" for k, v in company.options.items()),
    }


def _churn_by_tenure(
    panel: pd.DataFrame, accounts: pd.DataFrame, early_months: int
) -> tuple[float, float]:
    """Monthly churn (engine's record) in the first ``early_months`` of life and later."""
    pnl = panel.merge(accounts[["slot", "acquired_month"]], on="slot")
    at_risk = pnl[pnl["month"] - pnl["acquired_month"] >= 1]
    young = ((at_risk["month"] - at_risk["acquired_month"]) < early_months).to_numpy()
    lost = (at_risk["churn"] != "").to_numpy()
    early = float(lost[young].mean()) if young.any() else float("nan")
    late = float(lost[~young].mean()) if (~young).any() else float("nan")
    return early, late


def _segment_rows(
    sc: Scenario, acc: pd.DataFrame, cust: pd.DataFrame, mrr: pd.DataFrame,
    at_last: pd.DataFrame, last: pd.Timestamp,
) -> list[dict[str, Any]]:
    from cs_sim.kpis import mrr_bridge

    plans = plan_names(sc)
    last_ids = set(at_last["account_id"])
    mrr_last = at_last.merge(acc[["account_id", "segment"]], on="account_id")
    rows = []
    for s in sc.segments:
        c = cust[cust["segment"] == s.name]
        ids = set(c["account_id"])
        seg_churn = float("nan")
        sub = mrr[mrr["account_id"].isin(ids)]
        if len(sub):
            br = mrr_bridge(sub)
            if br["start_accounts"].sum() > 0:
                seg_churn = float(br["churned_accounts"].sum() / br["start_accounts"].sum())
        rows.append({
            "segment": s.name,
            "plan": plans[s.name],
            "price per seat": f"{s.price_per_seat:g}",
            "customers (ever)": fmt.count(len(c)),
            f"paying {last:%Y-%m}": fmt.count(len(ids & last_ids)),
            "median employees": fmt.count(int(c["employees"].median()) if len(c) else 0),
            "annual contracts": fmt.percent(
                float((c["contract"] == "annual").mean()) if len(c) else float("nan")
            ),
            "avg monthly logo churn": fmt.percent(seg_churn),
            f"share of MRR {last:%Y-%m}": fmt.percent(
                float(mrr_last.loc[mrr_last["segment"] == s.name, "mrr"].sum()
                      / max(mrr_last["mrr"].sum(), 1e-12))
            ),
        })
    return rows


def _tier_rows(
    sc: Scenario, acc: pd.DataFrame, last_ids: set[str], last: pd.Timestamp
) -> list[dict[str, Any]]:
    tier_last = acc.set_index("account_id")["tier"].reindex(sorted(last_ids))
    return [
        {"tier": t.name, "rule": _rule_text(t.rule), "CSMs": fmt.count(t.team.headcount),
         f"accounts {last:%Y-%m}": fmt.count((tier_last == t.name).sum())}
        for t in sc.tiers
    ]


def _play_rows(sc: Scenario, ds: Dataset) -> list[dict[str, Any]]:
    delivered = (ds.interactions.groupby("intervention").size()
                 if ds.interactions is not None and len(ds.interactions) else pd.Series())
    rows = [{"play": "onboarding", "kind": "trigger (new account)", "tiers": "all",
             "delivered": fmt.count(delivered.get("onboarding", 0))}] \
        if sc.onboarding is not None else []
    for play in sc.plays:
        rows.append({"play": play.name, "kind": play.kind, "tiers": ", ".join(play.tiers),
                     "delivered": fmt.count(delivered.get(play.name, 0))})
    return rows
