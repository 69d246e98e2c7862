"""``cs-sim report``: the chain run with papermill into ``reports/<name>/<run-id>/``.

:func:`prepare` checks everything a report needs before anything is written: the
parameters against the notebooks (:func:`cs_sim.report._params.plan_report`), the
dataset (:func:`cs_sim.io.load_dataset`) and an earlier run to compare with.
:func:`run_report` then runs the stages, several at once (each in its own kernel; they
are independent, each reads the dataset itself; longest first), into a temporary
folder ``reports/<name>/.<run-id>.partial`` beside the final one, writes the manifest,
the headline figures and ``index.html`` there, and renames it into place only when
complete. A stage that fails is kept (its notebook and HTML show the error) and marked
FAILED in the index; an interruption (Ctrl-C) stops the kernels and removes the
temporary folder. :func:`run_grid` runs many parameter sets, each as one report in a
folder of one grid run, through :func:`cs_sim.report._grid.map_runs`.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cs_sim.report._execute import Kernels, StageResult, execute_stage, kernel_profile
from cs_sim.report._params import ReportParams, ReportPlan, StagePlan, plan_report

__all__ = ["ReportRun", "Prepared", "prepare", "run_report", "run_prepared", "write_run"]

#: usual seconds of each stage on data/sample (the longest start first)
EXPECTED_SECONDS = {"06_what_if": 13, "03_kpi_baseline": 8, "01_research": 7,
                    "07_plan": 9, "02_segmentation": 6, "04_maturity": 6, "05_journey": 4}
#: where a stage with an ``out_dir`` parameter writes, inside the run folder
OUT_DIRS = {"06_what_if": "what_if", "07_plan": "plan"}
PARTIAL = ".partial"


@dataclass
class ReportRun:
    """A report written (or being written).

    Attributes
    ----------
    name, run_id : str
    folder : pathlib.Path
        The run folder (final once :func:`run_report` returns).
    stages : list of StageResult
        In chain order.
    seconds : float
    changes : RunChanges or None
        What moved since ``--compare-to``.
    """

    name: str
    run_id: str
    folder: Path
    stages: list[StageResult] = field(default_factory=list)
    seconds: float = 0.0
    changes: Any = None

    @property
    def failed(self) -> list[StageResult]:
        """The stages that failed."""
        return [s for s in self.stages if s.status != "ok"]

    @property
    def status(self) -> str:
        """``"complete"`` or ``"failed"``."""
        return "failed" if self.failed else "complete"

    @property
    def index(self) -> Path:
        return self.folder / "index.html"

    def headlines(self) -> dict[str, Any]:
        """``{stage: headline dict or None}``."""
        return {s.name: s.headlines for s in self.stages}


@dataclass(frozen=True)
class Prepared:
    """A report checked and ready to run (nothing written yet)."""

    plan: ReportPlan
    data_files: dict[str, dict[str, Any]]
    previous: Any = None
    compare_to: Path | None = None


def reports_root() -> Path:
    """``reports/`` of the repository in a checkout, else of the working directory."""
    from cs_sim.paths import resolve_path

    return resolve_path("reports")


def _checksums(folder: Path) -> dict[str, dict[str, Any]]:
    import hashlib

    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):
                digest.update(chunk)
        out[path.relative_to(folder).as_posix()] = {"sha256": digest.hexdigest(),
                                                    "bytes": path.stat().st_size}
    return out


def prepare(params: ReportParams, *, source: str = "report parameters",
            data: str | os.PathLike[str] | None = None, name: str | None = None,
            jobs: int | None = None, compare_to: str | os.PathLike[str] | None = None
            ) -> Prepared:
    """Check a report before anything is written.

    Raises
    ------
    cs_sim.errors.ReportInputError
        Bad parameters (see :func:`plan_report`), or ``compare_to`` not a report run.
    cs_sim.errors.DataValidationError
        The dataset is not valid (every problem at once).
    """
    from cs_sim.io import load_dataset

    plan = plan_report(params, source=source, data=data, name=name, jobs=jobs)
    previous = None
    if compare_to is not None:
        from cs_sim.report._compare import read_run

        previous = read_run(compare_to)
    load_dataset(plan.data)
    return Prepared(plan=plan, data_files=_checksums(plan.data), previous=previous,
                    compare_to=None if compare_to is None else Path(compare_to))


def new_run_id(parent: Path) -> str:
    """A run id from the local time, ``2026-03-01_143005`` (``-2``... when taken)."""
    base = datetime.now().strftime("%Y-%m-%d_%H%M%S")
    run_id, n = base, 1
    while (parent / run_id).exists() or (parent / f".{run_id}{PARTIAL}").exists():
        n += 1
        run_id = f"{base}-{n}"
    return run_id


def _kernel_env(ipython_dir: Path, jobs: int) -> dict[str, str]:
    threads = str(max(1, (os.cpu_count() or 1) // max(1, jobs)))
    env = {"IPYTHONDIR": str(ipython_dir), "PYTHONHASHSEED": "0",
           "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = os.environ.get(var, threads)
    return env


def _guarded(plan: StagePlan, tmp: Path, **kw: Any) -> StageResult:
    try:
        return execute_stage(plan, tmp, **kw)
    except Exception as exc:  # writing its HTML or figures failed: the stage failed
        return StageResult(name=plan.name, title=plan.stage.title, status="failed",
                           error=f"{type(exc).__name__}: {exc}", parameters=plan.inject)


def _run_stages(plan: ReportPlan, tmp: Path, final: Path, *, progress: bool,
                on_stage: Callable[[StageResult], None] | None = None
                ) -> list[StageResult]:
    from tqdm import tqdm

    order = sorted(plan.stages, key=lambda s: -EXPECTED_SECONDS.get(s.name, 5))
    kernels = Kernels()
    results: dict[str, StageResult] = {}
    with tempfile.TemporaryDirectory(prefix="cs-sim-ipython-") as ipy:
        env = _kernel_env(kernel_profile(ipy), plan.jobs)
        bar = tqdm(total=len(order), desc=f"report {plan.name}", unit="stage",
                   file=sys.stderr, disable=not progress, leave=True)
        pool = ThreadPoolExecutor(max_workers=plan.jobs, thread_name_prefix="cs-sim-stage")
        futures: dict[Future[StageResult], StagePlan] = {}
        try:
            for sp in order:
                inject = ({"out_dir": str(tmp / OUT_DIRS.get(sp.name, sp.name[3:]))}
                          if "out_dir" in sp.stage.parameters else {})
                futures[pool.submit(_guarded, sp, tmp, kernels=kernels, env=env,
                                    inject=inject, final_dir=final)] = sp
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for fut in done:
                    res = fut.result()
                    results[res.name] = res
                    bar.set_postfix_str(f"{res.name} {res.status} {res.seconds:.0f} s")
                    bar.update(1)
                    if res.status != "ok":
                        bar.write(f"{res.name}: FAILED: {res.error}", file=sys.stderr)
                    if on_stage is not None:
                        on_stage(res)
        except BaseException:
            kernels.kill_all()
            for fut in futures:
                fut.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            bar.close()
        pool.shutdown(wait=True)
    return [results[s.name] for s in plan.stages]


def write_run(prep: Prepared, tmp: Path, final: Path, *, run_id: str, progress: bool = True,
              command: Sequence[str] | None = None) -> ReportRun:
    """Run the stages into ``tmp`` and write the run's files there (no rename).

    Returns
    -------
    ReportRun
        With ``folder=final``.
    """
    import json

    from cs_sim._yaml import dump_yaml_mapping
    from cs_sim.report._index import render_index
    from cs_sim.report._manifest import manifest

    plan = prep.plan
    tmp.mkdir(parents=True, exist_ok=True)
    started = datetime.now().astimezone()
    t0 = time.perf_counter()
    stages = _run_stages(plan, tmp, final, progress=progress)
    run = ReportRun(name=plan.name, run_id=run_id, folder=final, stages=stages,
                    seconds=time.perf_counter() - t0)
    if prep.previous is not None:
        from cs_sim.report._compare import compare_runs

        run.changes = compare_runs(prep.previous, run.headlines())
        (tmp / "changes.json").write_text(json.dumps(run.changes.to_dict(), indent=2),
                                          encoding="utf-8")
        (tmp / "changes.txt").write_text(run.changes.to_text() + "\n", encoding="utf-8")
    (tmp / "headlines.json").write_text(json.dumps(run.headlines(), indent=2),
                                        encoding="utf-8")
    (tmp / "params.yaml").write_text(dump_yaml_mapping(
        plan.params.to_file_dict(),
        header=f"The parameters of report run {plan.name}/{run_id}; run it again with\n"
               "cs-sim report --params <this file>"), encoding="utf-8")
    doc = manifest(prep, run, started=started, command=command)
    (tmp / "manifest.json").write_text(json.dumps(doc, indent=2), encoding="utf-8")
    (tmp / "index.html").write_text(render_index(doc, run, tmp), encoding="utf-8")
    return run


def run_prepared(prep: Prepared, *, reports_dir: str | os.PathLike[str] | None = None,
                 progress: bool = True, command: Sequence[str] | None = None) -> ReportRun:
    """Run a prepared report into ``reports/<name>/<run-id>/`` (see the module docstring).

    Returns
    -------
    ReportRun
        Check ``run.failed``: a failed stage does not raise.
    """
    parent = Path(reports_dir) if reports_dir is not None else reports_root()
    parent = parent / prep.plan.name
    parent.mkdir(parents=True, exist_ok=True)
    run_id = new_run_id(parent)
    tmp, final = parent / f".{run_id}{PARTIAL}", parent / run_id
    try:
        run = write_run(prep, tmp, final, run_id=run_id, progress=progress, command=command)
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return run


def run_report(params: ReportParams | None = None, *, source: str = "report parameters",
               data: str | os.PathLike[str] | None = None, name: str | None = None,
               jobs: int | None = None, compare_to: str | os.PathLike[str] | None = None,
               reports_dir: str | os.PathLike[str] | None = None, progress: bool = True,
               command: Sequence[str] | None = None) -> ReportRun:
    """Check, then run the chain into ``reports/<name>/<run-id>/``.

    Parameters
    ----------
    params : ReportParams, optional
        Default: every stage with its notebook's defaults.
    source : str
        How messages name the parameter file.
    data, name, jobs : optional
        Win over the parameters' ``data``, ``name`` and ``jobs``.
    compare_to : path, optional
        An earlier run folder: what moved is added to the index.
    reports_dir : path, optional
        Default ``reports/`` (of the repository in a checkout).
    progress : bool, default True
        A progress bar of the stages on stderr.
    command : sequence of str, optional
        The command line, for the manifest.

    Returns
    -------
    ReportRun

    Raises
    ------
    cs_sim.errors.ReportInputError, cs_sim.errors.DataValidationError
        Before anything is written.
    """
    prep = prepare(params or ReportParams(), source=source, data=data, name=name, jobs=jobs,
                   compare_to=compare_to)
    return run_prepared(prep, reports_dir=reports_dir, progress=progress, command=command)

