"""``manifest.json`` of a report run: what ran, on what, with what, and how it went.

Keys: ``report``, ``run_id``, ``status`` (``complete`` or ``failed``), ``started``,
``finished``, ``seconds``, ``command``, ``params`` (the parameter file's shape: the same
as ``params.yaml`` of the run), ``data`` (the folder and the SHA-256 and size of every
file in it), ``seeds`` (the seed of each stage that has one), ``stages`` (per stage:
status, seconds, error, files, figures, the parameters injected), ``versions`` (Python
and the packages that shape the figures), ``notebooks`` (their folder and the SHA-256
of each stage's notebook as run), ``jobs``, ``compare_to``.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Sequence
from datetime import datetime
from importlib import metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.report._runner import Prepared, ReportRun

__all__ = ["PACKAGES", "manifest", "versions"]

#: the packages whose versions a manifest records (distribution names)
PACKAGES = ("cs-sim", "numpy", "pandas", "scipy", "statsmodels", "simpy", "matplotlib",
            "papermill", "nbconvert", "nbclient", "ipykernel", "pandera", "pydantic")


def _sha256(path: Any) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def versions() -> dict[str, str | None]:
    """Python's and :data:`PACKAGES`' versions (None for one not installed)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def manifest(prep: Prepared, run: ReportRun, *, started: datetime,
             command: Sequence[str] | None = None) -> dict[str, Any]:
    """The manifest of a run (plain JSON data).

    Parameters
    ----------
    prep : Prepared
    run : ReportRun
    started : datetime
    command : sequence of str, optional
        The command line (default ``sys.argv``).
    """
    plan = prep.plan
    return {
        "report": plan.name,
        "run_id": run.run_id,
        "status": run.status,
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now().astimezone().isoformat(timespec="seconds"),
        "seconds": round(run.seconds, 2),
        "command": list(command) if command is not None else list(sys.argv),
        "params": plan.params.to_file_dict(),
        "data": {"path": str(plan.data), "files": prep.data_files},
        "seeds": plan.seeds(),
        "stages": {s.name: s.to_dict() for s in run.stages},
        "versions": versions(),
        "platform": platform.platform(),
        "kernel": sys.executable,
        "jobs": plan.jobs,
        "notebooks": {"folder": str(plan.notebooks),
                      "sha256": {s.name: _sha256(s.stage.path) for s in plan.stages}},
        "compare_to": None if prep.compare_to is None else str(prep.compare_to),
    }
