"""Small datasets for the io tests: a valid base written as literal CSV text, and a
larger generated one for timing.

The base files are literal text so that every line number a test expects can be read
off this file (the header is line 1, the first data row line 2).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

#: a small valid dataset, file name -> CSV text
BASE_FILES: dict[str, str] = {
    "accounts.csv": (
        "account_id,name,industry,employees,region,signup_date,plan,contract,csm_id,segment\n"
        "A1,Acme,software,120,EMEA,2023-01-15,pro,annual,C1,mid\n"  # line 2
        "A2,Beta,retail,15,NA,2023-02-03,basic,monthly,,smb\n"  # line 3
        'A3,"Gamma, Inc.",finance,800,APAC,2023-03-20,enterprise,annual,C2,ent\n'  # line 4
        "A4,Delta,software,40,EMEA,2023-04-01,basic,monthly,,smb\n"  # line 5
        "P5,Prospect,retail,8,AMER,2024-02-10,,monthly,,smb\n"  # line 6 (never paid)
    ),
    "mrr.csv": (
        "account_id,month,mrr\n"
        "A1,2024-01,1000\n"  # line 2
        "A1,2024-02,1000\n"  # line 3
        "A1,2024-03,1200\n"  # line 4
        "A2,2024-01,100\n"  # line 5
        "A2,2024-02,100\n"  # line 6
        "A2,2024-03,0\n"  # line 7
        "A3,2024-01-01,5000\n"  # line 8
        "A3,2024-02-01,4500.5\n"  # line 9
        "A3,2024-03-01,4500.5\n"  # line 10
        "A4,2024-02,200\n"  # line 11
        "A4,2024-03,250\n"  # line 12
    ),
    "usage.csv": (
        "account_id,month,active_users,seats,sessions,minutes,key_feature_events,dau\n"
        "A1,2024-01,40,50,900,12000.5,300,20.5\n"  # line 2
        "A1,2024-02,42,50,950,12500,310,\n"  # line 3
        "A2,2024-01,5,10,60,800,12,2\n"  # line 4
        "A3,2024-01,300,400,8000,90000,2500,150\n"  # line 5
        "A4,2024-02,10,10,100,1500,30,4\n"  # line 6
    ),
    "tickets.csv": (
        "ticket_id,account_id,opened_at,resolved_at,contacts_to_resolve,category,handle_minutes\n"
        "T1,A1,2024-01-05 09:00,2024-01-05 11:30,1,billing,25\n"  # line 2
        "T2,A1,2024-02-10,2024-02-12,2,bug,60.5\n"  # line 3
        "T3,A2,2024-02-11,,1,how-to,10\n"  # line 4 (open)
        "T4,A3,2024-03-01,2024-03-01,1,,5\n"  # line 5
    ),
    "surveys.csv": (
        "response_id,account_id,date,kind,score,comment\n"
        "R1,A1,2024-01-20,nps,9,great\n"  # line 2
        'R2,A2,2024-01-21,nps,3,"slow,\nbuggy"\n'  # lines 3-4 (a comment on two lines)
        "R3,A3,2024-02-02,csat,5,\n"  # line 5
        "R4,A1,2024-02-03,ces,2,\n"  # line 6
        "R5,A4,2024-03-04,nps,10,\n"  # line 7
    ),
    "trials.csv": (
        "account_id,trial_start,trial_end,converted\n"
        "A4,2024-01-01,2024-01-31,true\n"  # line 2
        "P5,2024-02-10,2024-03-10,false\n"  # line 3
        "A2,2023-01-20,2023-02-03,Yes\n"  # line 4
    ),
    "interactions.csv": (
        "account_id,date,kind,owner_team\n"
        "A1,2024-01-10,onboarding,cs\n"  # line 2
        "A3,2024-02-15,qbr,cs\n"  # line 3
        "A2,2024-02-20,email,\n"  # line 4
    ),
    "costs.csv": (
        "month,cs_cost,support_cost,tooling_cost\n"
        "2024-01,8000,3000,500\n"  # line 2
        "2024-02,8000,3200,500\n"  # line 3
        "2024-03,8500,3100,520\n"  # line 4
    ),
}


def write_files(folder: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` (name -> text or bytes) into ``folder`` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        (folder / name).write_bytes(data)
    return folder


def hash_folder(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` (name -> hex digest)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def large_tables(
    n_accounts: int = 2000, n_months: int = 36, *, seed: int = 0
) -> dict[str, pd.DataFrame]:
    """A large valid dataset of loaded (typed) tables, for timing and round trips.

    One MRR row and one usage row per account-month (72k each at the defaults),
    15 tickets and 10 survey responses per account (30k and 20k), costs per month;
    no trials or interactions. Dtypes are those :func:`cs_sim.io.load_dataset` returns.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    ids = np.array([f"A{i:05d}" for i in range(n_accounts)])
    months = pd.date_range("2022-01-01", periods=n_months, freq="MS")
    accounts = pd.DataFrame(
        {
            "account_id": pd.Series(ids, dtype="str"),
            "name": pd.Series([f"Company {i}" for i in range(n_accounts)], dtype="str"),
            "industry": pd.Series(rng.choice(["software", "retail", "finance"], n_accounts)),
            "employees": rng.integers(1, 5000, n_accounts).astype("int64"),
            "region": pd.Series(rng.choice(["EMEA", "AMER", "APAC"], n_accounts)),
            "signup_date": pd.Timestamp("2021-06-01")
            + pd.to_timedelta(rng.integers(0, 200, n_accounts), unit="D"),
            "plan": pd.Series(rng.choice(["basic", "pro"], n_accounts)),
            "contract": pd.Series(rng.choice(["monthly", "annual"], n_accounts)),
            "csm_id": pd.Series(rng.choice(["C1", "C2", None], n_accounts), dtype="str"),
        }
    )
    acc = np.repeat(ids, n_months)
    mon = np.tile(months.to_numpy(), n_accounts)
    mrr = pd.DataFrame(
        {
            "account_id": pd.Series(acc, dtype="str"),
            "month": mon,
            "mrr": np.round(rng.gamma(2.0, 300.0, acc.size), 2),
        }
    )
    users = rng.integers(0, 200, acc.size)
    usage = pd.DataFrame(
        {
            "account_id": pd.Series(acc, dtype="str"),
            "month": mon,
            "active_users": users,
            "seats": users + rng.integers(0, 50, acc.size),
            "sessions": users * 20,
            "minutes": users * 33.5,
            "key_feature_events": users * 3,
        }
    )
    n_t = 15 * n_accounts
    opened = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 1000, n_t), unit="D")
    tickets = pd.DataFrame(
        {
            "ticket_id": pd.Series([f"T{i}" for i in range(n_t)], dtype="str"),
            "account_id": pd.Series(rng.choice(ids, n_t), dtype="str"),
            "opened_at": opened,
            "resolved_at": opened + pd.to_timedelta(rng.integers(0, 72, n_t), unit="h"),
            "contacts_to_resolve": rng.integers(1, 4, n_t),
            "category": pd.Series(rng.choice(["bug", "billing", "how-to"], n_t)),
            "handle_minutes": np.round(rng.gamma(2.0, 10.0, n_t), 1),
        }
    )
    n_s = 10 * n_accounts
    kinds = rng.choice(["nps", "csat", "ces"], n_s)
    hi = np.select([kinds == "nps", kinds == "csat"], [10, 5], 7)
    lo = np.where(kinds == "nps", 0, 1)
    surveys = pd.DataFrame(
        {
            "response_id": pd.Series([f"R{i}" for i in range(n_s)], dtype="str"),
            "account_id": pd.Series(rng.choice(ids, n_s), dtype="str"),
            "date": pd.Timestamp("2022-01-01")
            + pd.to_timedelta(rng.integers(0, 1000, n_s), unit="D"),
            "kind": pd.Series(kinds, dtype="str"),
            "score": rng.integers(lo, hi + 1),
            "comment": pd.Series(rng.choice(["fine", 'said "ok", then left', None], n_s)),
        }
    )
    costs = pd.DataFrame(
        {
            "month": months,
            "cs_cost": np.full(n_months, 50_000.0),
            "support_cost": np.full(n_months, 20_000.0),
            "tooling_cost": np.full(n_months, 3_000.0),
        }
    )
    out = {
        "accounts": accounts,
        "mrr": mrr,
        "usage": usage,
        "tickets": tickets,
        "surveys": surveys,
        "costs": costs,
    }
    for frame in out.values():
        for col in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[col]):
                frame[col] = frame[col].astype("datetime64[ns]")
            elif frame[col].dtype == object:
                frame[col] = frame[col].astype("str")
    return out
