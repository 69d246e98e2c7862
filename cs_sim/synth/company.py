"""Generating a synthetic company: run the simulator over a past period, export it.

A company is one replication of :func:`cs_sim.simulate` with the scenario's as-is
policy, recorded account by account (:func:`cs_sim.sim.run_history`), exported as the
canonical tables (:mod:`cs_sim.synth.tables`) with its ground truth
(:mod:`cs_sim.synth.truth`) and written by :mod:`cs_sim.synth.write`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cs_sim.errors import ScenarioError
from cs_sim.synth.params import DEFAULT_SCENARIO, SynthParams
from cs_sim.synth.tables import build_dataset
from cs_sim.synth.truth import ground_truth, run_outcomes
from cs_sim.synth.write import check_target, write_company
from cs_sim.tables import FileFormat, check_file_format

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.io import Dataset
    from cs_sim.sim.record import History
    from cs_sim.sim.scenario import Scenario

__all__ = [
    "SyntheticCompany",
    "default_scenario_path",
    "generate",
    "generate_company",
]

log = logging.getLogger(__name__)

#: the project root of a source checkout (where ``templates/`` lies)
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, eq=False)
class SyntheticCompany:
    """A generated company: its tables, the ground truth and the engine's record.

    Attributes
    ----------
    scenario : Scenario
        The scenario actually run (options applied).
    seed : int
    replication : int
        Which replication of the seed the company is (its numbers equal replication
        ``replication`` of ``cs_sim.simulate(scenario, seed=seed)``).
    dataset : cs_sim.io.Dataset
        The canonical tables (extra columns: ``accounts.segment``, ``accounts.tier``,
        ``interactions.intervention``).
    ground_truth : dict
        What ``ground_truth.json`` holds.
    history : cs_sim.sim.History
        The engine's per-account record the tables were made from.
    options : dict
        The generator options (for the manifest and the README).
    """

    scenario: Scenario
    seed: int
    replication: int
    dataset: Dataset
    ground_truth: dict[str, Any]
    history: History
    options: dict[str, Any]

    def write(
        self,
        path: str | os.PathLike[str],
        *,
        format: FileFormat = "csv",
        force: bool = False,
        command: str | None = None,
    ) -> Path:
        """Write the company to a folder (see :func:`write_company`)."""
        return write_company(self, path, format=format, force=force, command=command)


def default_scenario_path() -> Path:
    """Path of ``templates/scenarios/sample_company.yaml`` of this project.

    Looked up next to the package (a source checkout), then in the working directory.

    Raises
    ------
    cs_sim.errors.ScenarioError
        If neither exists (e.g. an installed package): pass a scenario explicitly.
    """
    here = _PROJECT_ROOT / DEFAULT_SCENARIO
    for candidate in (here, Path.cwd() / DEFAULT_SCENARIO):
        if candidate.is_file():
            return candidate
    raise ScenarioError(
        f"the default scenario {DEFAULT_SCENARIO} was not found; pass a scenario YAML "
        "(e.g. --scenario templates/scenarios/baseline.yaml)"
    )


def _resolve_scenario(scenario: Scenario | str | os.PathLike[str] | None) -> tuple[Scenario, str]:
    from cs_sim.sim.scenario import Scenario
    from cs_sim.sim.scenario_io import load_scenario

    if scenario is None:
        path = default_scenario_path()
        return load_scenario(path), _display_path(path)
    if isinstance(scenario, Scenario):
        return scenario, scenario.name
    path = Path(scenario)
    return load_scenario(path), _display_path(path)


def _display_path(path: Path) -> str:
    try:
        return Path(path).resolve().relative_to(_PROJECT_ROOT).as_posix()
    except ValueError:
        return Path(path).as_posix()


def generate_company(
    scenario: Scenario | str | os.PathLike[str] | None = None,
    *,
    seed: int,
    n_accounts: int | None = None,
    months: int | None = None,
    start_month: str | None = None,
    replication: int = 0,
    params: SynthParams | None = None,
) -> SyntheticCompany:
    """Generate a synthetic company by running the simulator over a past period.

    Parameters
    ----------
    scenario : Scenario, path or None
        The as-is scenario (default ``templates/scenarios/sample_company.yaml``). Its
        population must be synthetic.
    seed : int
        Root seed: same seed and options, same company, byte for byte.
    n_accounts : int, optional
        Customers the run starts from (``population.n_accounts``), before the warm-up;
        the data's first month has the customers alive after it (about as many when
        acquisition balances churn).
    months : int, optional
        Months of data (``horizon_months``), at least 2.
    start_month : str, optional
        First month of the data, ``YYYY-MM`` (default the scenario's, else 2023-01).
    replication : int, default 0
        Which replication of the seed to export.
    params : SynthParams, optional
        Parameters of the details the generator adds (comments, dates, ...).

    Returns
    -------
    SyntheticCompany

    Raises
    ------
    cs_sim.errors.ScenarioError
        For a bad scenario or option.

    Examples
    --------
    >>> company = generate_company("templates/scenarios/baseline.yaml", seed=7,
    ...                            n_accounts=200, months=12)  # doctest: +SKIP
    >>> company.dataset.mrr.head()  # doctest: +SKIP
    """
    from cs_sim.sim.runners import resolve_seed, run_history

    sc, source = _resolve_scenario(scenario)
    seed = resolve_seed(seed)
    changes: dict[str, Any] = {}
    if n_accounts is not None:
        if isinstance(n_accounts, bool) or int(n_accounts) < 1:
            raise ScenarioError(f"accounts: must be an integer >= 1 (got {n_accounts!r})")
        changes["population"] = {"n_accounts": int(n_accounts)}
    if months is not None:
        if isinstance(months, bool) or int(months) < 2:
            raise ScenarioError(f"months: must be an integer >= 2 (got {months!r})")
        changes["horizon_months"] = int(months)
    if start_month is not None:
        changes["start_month"] = str(start_month)
    elif sc.start_month is None:
        changes["start_month"] = "2023-01"
    if changes:
        sc = sc.with_changes(changes)
    if sc.population.source != "synthetic":
        raise ScenarioError(
            f"{source}: population.source: the generator needs 'synthetic' (got "
            f"'{sc.population.source}')"
        )
    if sc.horizon_months < 2:
        raise ScenarioError(f"{source}: horizon_months: the generator needs >= 2 months")
    p = params or SynthParams()
    history = run_history(sc, seed, replication=replication)
    dataset = build_dataset(sc, history, seed, replication, p)
    options = {
        "scenario": source,
        "seed": int(seed),
        "accounts": sc.population.n_accounts,
        "months": sc.horizon_months,
        "start_month": str(sc.start_month)[:7],
        "replication": int(replication),
    }
    truth = ground_truth(sc, seed, replication=replication, options=options, params=p,
                         outcomes=run_outcomes(history))
    log.info("generated a company: %d accounts, %d months, seed %d", len(dataset.accounts),
             sc.horizon_months, seed)
    return SyntheticCompany(sc, int(seed), int(replication), dataset, truth, history, options)


def generate(
    path: str | os.PathLike[str],
    scenario: Scenario | str | os.PathLike[str] | None = None,
    *,
    seed: int,
    n_accounts: int | None = None,
    months: int | None = None,
    start_month: str | None = None,
    format: FileFormat = "csv",
    force: bool = False,
    command: str | None = None,
) -> SyntheticCompany:
    """Generate a company and write it to ``path`` (what ``cs-sim generate`` runs).

    The target is checked before the (slower) simulation: a non-empty folder without
    ``force`` is refused at once.

    Parameters
    ----------
    path : str or os.PathLike
    scenario : Scenario, path or None
    seed : int
    n_accounts, months, start_month
        See :func:`generate_company`.
    format : {"csv", "parquet"}, default "csv"
    force : bool, default False
    command : str, optional
        Regeneration command for the README.

    Returns
    -------
    SyntheticCompany

    Raises
    ------
    cs_sim.errors.FileFormatError
        For a format other than csv or parquet.
    cs_sim.errors.CsSimError
        If ``path`` is a file, or a non-empty folder and ``force`` is False.
    cs_sim.errors.ScenarioError
        For a bad scenario or option.
    """
    check_file_format(format)
    check_target(Path(path), force)
    company = generate_company(scenario, seed=seed, n_accounts=n_accounts, months=months,
                               start_month=start_month)
    write_company(company, path, format=format, force=force, command=command)
    return company
