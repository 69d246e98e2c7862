"""Writing a synthetic company: tables, ground truth, manifest and README, all or nothing.

Everything is written into a temporary folder beside the target and moved into place
only when complete; with ``force`` an existing folder is replaced as a whole.
``manifest.json`` holds the SHA-256, size and rows of every data file and the command
that regenerates the folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cs_sim.errors import CsSimError
from cs_sim.synth.params import GENERATOR_VERSION
from cs_sim.synth.readme import render_readme
from cs_sim.tables import TABLES, FileFormat, check_file_format

if TYPE_CHECKING:  # pragma: no cover
    from cs_sim.synth.company import SyntheticCompany

__all__ = ["check_target", "write_company"]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_target(folder: Path, force: bool) -> None:
    """Refuse a target that is a file, or a non-empty folder unless ``force``.

    Parameters
    ----------
    folder : pathlib.Path
    force : bool
        Whether an existing non-empty folder may be replaced.

    Raises
    ------
    cs_sim.errors.CsSimError
        With what to do instead.
    """
    if folder.exists() and not folder.is_dir():
        raise CsSimError(f"cannot write a company to '{folder}': it is a file, not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise CsSimError(
            f"'{folder}' is not empty; choose another folder or pass --force "
            "(force=True) to replace it"
        )


def write_company(
    company: SyntheticCompany,
    path: str | os.PathLike[str],
    *,
    format: FileFormat = "csv",
    force: bool = False,
    command: str | None = None,
) -> Path:
    """Write a company's tables, ``ground_truth.json``, ``manifest.json`` and ``README.md``.

    Everything is written into a temporary folder beside ``path`` and moved into place
    only when complete; with ``force`` an existing folder is replaced as a whole.

    Parameters
    ----------
    company : SyntheticCompany
    path : str or os.PathLike
        The folder to create.
    format : {"csv", "parquet"}, default "csv"
    force : bool, default False
        Replace ``path`` when it exists and is not empty.
    command : str, optional
        The command that regenerates the folder (shown in the README; default a
        ``cs-sim generate`` line built from the options).

    Returns
    -------
    pathlib.Path
        The folder.

    Raises
    ------
    cs_sim.errors.FileFormatError
        For a format other than csv or parquet.
    cs_sim.errors.CsSimError
        If ``path`` is a file, or a non-empty folder and ``force`` is False.
    """
    from cs_sim.io import write_dataset

    check_file_format(format)
    folder = Path(path)
    check_target(folder, force)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".{folder.name}.partial-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        write_dataset(company.dataset, tmp, format=format)
        truth_text = json.dumps(company.ground_truth, indent=2, sort_keys=False) + "\n"
        (tmp / "ground_truth.json").write_text(truth_text, encoding="utf-8")
        options = {**company.options, "format": format}
        cmd = command or _command(folder, options)
        files = {}
        for name in [*(f"{t}.{format}" for t in company.dataset.tables()), "ground_truth.json"]:
            fp = tmp / name
            table = name.split(".")[0]
            rows = len(company.dataset.tables()[table]) if table in TABLES else None
            files[name] = {"sha256": _sha256(fp), "bytes": fp.stat().st_size, "rows": rows}
        manifest = {
            "generator": "cs_sim.synth",
            "generator_version": GENERATOR_VERSION,
            "cs_sim_version": company.ground_truth["cs_sim_version"],
            "engine_version": company.ground_truth["engine_version"],
            "command": cmd,
            "options": options,
            "files": files,
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n",
                                           encoding="utf-8")
        readme = render_readme(company, files, cmd, format, folder.as_posix())
        (tmp / "README.md").write_text(readme, encoding="utf-8")
        _move_into_place(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _move_into_place(tmp: Path, folder: Path) -> None:
    old = None
    if folder.exists():
        old = folder.parent / f".{folder.name}.old-{os.getpid()}"
        if old.exists():
            shutil.rmtree(old)
        folder.rename(old)
    try:
        tmp.rename(folder)
    except BaseException:
        if old is not None:
            old.rename(folder)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _command(folder: Path, options: Mapping[str, Any]) -> str:
    parts = ["cs-sim generate", folder.as_posix(), f"--seed {options['seed']}"]
    if options.get("scenario") and str(options["scenario"]).endswith((".yaml", ".yml")):
        parts.append(f"--scenario {options['scenario']}")
    parts += [f"--accounts {options['accounts']}", f"--months {options['months']}",
              f"--start-month {options['start_month']}", f"--format {options['format']}"]
    return " ".join(parts)
