"""Fixture script: a 200-account client export, messy, and its hand-cleaned copy.

One source of truth (canonical tables drawn from a seeded generator) is written twice:

* ``messy/``: as a CRM and a billing system export them: ``crm_accounts.csv`` with
  ``Customer ID``-style headers, dates as dd/mm/yyyy, employees as ``1,200``, ``n/a``
  for unknown regions and sizes, ``SMB``/``Mid-Market``/``Enterprise`` segment labels,
  ``Monthly``/``Annual`` billing labels and an extra ``Segment`` column;
  ``billing_mrr.csv`` with months as ``01/03/2024`` and amounts as ``$356.70`` and
  ``$1,200.00``; ``surveys.xlsx`` (sheet ``Responses``) with ``NPS``/``CSAT`` labels;
  ``costs.parquet``;
* ``clean/``: the same tables as canonical CSV files, as a careful analyst would write
  them by hand;

plus ``mapping.yaml``, the import mapping from the first to the second. A test imports
``messy/`` with the mapping and checks that every KPI equals the clean copy's.

Run on its own (``python tests/_messy_export.py OUT``) it writes the three into OUT.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

MAPPING = """\
# Import mapping of the messy 200-account export (see tests/_messy_export.py)
version: 1
defaults:
  date_format: "%d/%m/%Y"
  thousands: ","
  currency_symbols: ["$"]
tables:
  accounts:
    file: crm_accounts.csv
    columns:
      account_id: Customer ID
      name: Company
      industry: Industry
      employees: Employees
      region: Region
      signup_date: Signup Date
      plan: Plan
      contract: Billing
      csm_id: CSM
    values:
      contract: {Monthly: monthly, Annual: annual}
      plan: {Starter: starter, Growth: growth, Enterprise: enterprise}
      segment: {SMB: smb, Mid-Market: mid_market, Enterprise: enterprise}
  mrr:
    file: billing_mrr.csv
    columns: {account_id: Customer, month: Billing Month, mrr: MRR}
    fill: {currency: USD}
  surveys:
    file: surveys.xlsx
    sheet: Responses
    columns: {response_id: ID, account_id: Customer, date: Date, kind: Type, score: Score}
    values:
      kind: {NPS: nps, CSAT: csat}
  costs:
    file: costs.parquet
    columns: {month: Month, cs_cost: CS, support_cost: Support, tooling_cost: Tools}
    fill: {currency: USD}
"""


@dataclass(frozen=True)
class MessyExport:
    """The folders and mapping :func:`build` wrote."""

    messy: Path
    clean: Path
    mapping: Path
    truth: dict[str, pd.DataFrame]


def truth_tables(n_accounts: int = 200, months: int = 24, seed: int = 20240) -> dict[
        str, pd.DataFrame]:
    """The source of truth: canonical tables of a small SaaS company."""
    rng = np.random.default_rng(seed)
    ids = [f"C{i:04d}" for i in range(1, n_accounts + 1)]
    first = pd.Timestamp("2023-01-01")
    signup = first + pd.to_timedelta(rng.integers(-400, 30 * (months - 2), n_accounts), "D")
    segment = rng.choice(["smb", "mid_market", "enterprise"], n_accounts, p=[0.6, 0.3, 0.1])
    employees = np.where(segment == "smb", rng.integers(2, 200, n_accounts),
                         np.where(segment == "mid_market", rng.integers(200, 2000, n_accounts),
                                  rng.integers(2000, 20000, n_accounts))).astype(float)
    employees[rng.random(n_accounts) < 0.08] = np.nan
    region = rng.choice(["AMER", "EMEA", "APAC"], n_accounts).astype(object)
    region[rng.random(n_accounts) < 0.07] = None
    names = [f"Company {i}" for i in range(1, n_accounts + 1)]
    names[4] = "Acme, Inc."
    accounts = pd.DataFrame({
        "account_id": ids,
        "name": names,
        "industry": rng.choice(["retail", "software", "healthcare"], n_accounts),
        "employees": pd.array(employees, dtype="Int64"),
        "region": region,
        "signup_date": signup.normalize(),
        "plan": rng.choice(["starter", "growth", "enterprise"], n_accounts),
        "contract": rng.choice(["monthly", "annual"], n_accounts, p=[0.7, 0.3]),
        "csm_id": np.where(segment == "smb", None, rng.choice(["csm_a", "csm_b"], n_accounts)),
        "segment": segment,
    })
    base = {"smb": 120.0, "mid_market": 900.0, "enterprise": 4000.0}
    rows = []
    month_list = pd.date_range(first, periods=months, freq="MS")
    for i, acc in accounts.iterrows():
        start = max(acc["signup_date"].to_period("M").to_timestamp(), first)
        level = round(base[acc["segment"]] * rng.lognormal(0, 0.4), 2)
        paying = True
        for m in month_list[month_list >= start]:
            if paying and rng.random() < 0.03:
                paying = False
            elif not paying and rng.random() < 0.15:
                paying = True
            if paying:
                level = round(level * rng.choice([1.0, 1.0, 1.0, 1.1, 0.9]), 2)
                rows.append((acc["account_id"], m, level))
            elif rng.random() < 0.3:
                rows.append((acc["account_id"], m, 0.0))  # an explicit zero row
        del i
    mrr = pd.DataFrame(rows, columns=["account_id", "month", "mrr"])
    mrr["currency"] = "USD"
    n_surveys = 300
    surveys = pd.DataFrame({
        "response_id": [f"R{i:04d}" for i in range(1, n_surveys + 1)],
        "account_id": rng.choice(ids, n_surveys),
        "date": first + pd.to_timedelta(rng.integers(0, 30 * months - 10, n_surveys), "D"),
        "kind": rng.choice(["nps", "csat"], n_surveys),
    })
    surveys["score"] = np.where(surveys["kind"] == "nps", rng.integers(0, 11, n_surveys),
                                rng.integers(1, 6, n_surveys))
    costs = pd.DataFrame({
        "month": month_list,
        "cs_cost": np.round(rng.uniform(20000, 30000, months), 2),
        "support_cost": np.round(rng.uniform(8000, 12000, months), 2),
        "tooling_cost": np.full(months, 1500.0),
        "currency": "USD",
    })
    return {"accounts": accounts, "mrr": mrr, "surveys": surveys, "costs": costs}


def _dmy(values: pd.Series) -> pd.Series:
    return values.dt.strftime("%d/%m/%Y")


def _thousands(x: float) -> str:
    return "n/a" if pd.isna(x) else f"{int(x):,}"


def write_clean(truth: dict[str, pd.DataFrame], folder: Path) -> None:
    """The canonical CSV files an analyst would write by hand."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in truth.items():
        out = frame.copy()
        for col in out.columns:
            if pd.api.types.is_datetime64_any_dtype(out[col]):
                fmt = "%Y-%m" if col == "month" else "%Y-%m-%d"
                out[col] = out[col].dt.strftime(fmt)
        out.to_csv(folder / f"{name}.csv", index=False)


def write_messy(truth: dict[str, pd.DataFrame], folder: Path) -> None:
    """The same tables as the client's systems export them."""
    folder.mkdir(parents=True, exist_ok=True)
    acc = truth["accounts"]
    labels = {"smb": "SMB", "mid_market": "Mid-Market", "enterprise": "Enterprise"}
    pd.DataFrame({
        "Customer ID": acc["account_id"],
        "Company": acc["name"],
        "Industry": acc["industry"],
        "Employees": [_thousands(x) for x in acc["employees"]],
        "Region": acc["region"].fillna("n/a"),
        "Signup Date": _dmy(acc["signup_date"]),
        "Plan": acc["plan"].str.capitalize(),
        "Billing": acc["contract"].str.capitalize(),
        "CSM": acc["csm_id"].fillna(""),
        "Segment": acc["segment"].map(labels),
    }).to_csv(folder / "crm_accounts.csv", index=False)
    mrr = truth["mrr"]
    pd.DataFrame({
        "Customer": mrr["account_id"],
        "Billing Month": _dmy(mrr["month"]),
        "MRR": [f"${x:,.2f}" for x in mrr["mrr"]],
    }).to_csv(folder / "billing_mrr.csv", index=False)
    sv = truth["surveys"]
    pd.DataFrame({
        "ID": sv["response_id"], "Customer": sv["account_id"], "Date": _dmy(sv["date"]),
        "Type": sv["kind"].str.upper(), "Score": sv["score"],
    }).to_excel(folder / "surveys.xlsx", sheet_name="Responses", index=False)
    co = truth["costs"]
    pd.DataFrame({"Month": co["month"], "CS": co["cs_cost"], "Support": co["support_cost"],
                  "Tools": co["tooling_cost"]}).to_parquet(folder / "costs.parquet")


def build(folder: Path) -> MessyExport:
    """Write ``messy/``, ``clean/`` and ``mapping.yaml`` into ``folder``."""
    truth = truth_tables()
    write_messy(truth, folder / "messy")
    write_clean(truth, folder / "clean")
    (folder / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    return MessyExport(folder / "messy", folder / "clean", folder / "mapping.yaml", truth)


if __name__ == "__main__":  # pragma: no cover
    out = build(Path(sys.argv[1] if len(sys.argv) > 1 else "messy_export"))
    print(f"wrote {out.messy}, {out.clean} and {out.mapping}")
