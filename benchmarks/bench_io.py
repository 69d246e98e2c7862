"""Benchmark: loading and validating a mid-size dataset (2,000 accounts x 36 months).

Target (issue "Foundation"): well under 3 s to load and validate on 2 cores.
Run: ``.venv/bin/python benchmarks/bench_io.py``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from _factories import large_tables  # noqa: E402

from cs_sim.io import Dataset, load_dataset, validate_dataset, write_dataset  # noqa: E402


def _best(func, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    tables = large_tables(2000, 36, seed=1)
    rows = {name: len(frame) for name, frame in tables.items()}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("csv", "parquet"):
            folder = write_dataset(Dataset(**tables), Path(tmp) / fmt, format=fmt)
            load_dataset(folder)  # warm: imports and schema construction
            t_load = _best(lambda folder=folder: load_dataset(folder))
            t_validate = _best(lambda folder=folder: validate_dataset(folder))
            print(
                f"{fmt:8s} load {t_load:6.3f} s   validate {t_validate:6.3f} s   "
                f"(target < 3 s)   rows: {rows}"
            )


if __name__ == "__main__":
    main()
