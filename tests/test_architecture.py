"""ARCHITECTURE.md stays true to the package, and the repository stands alone."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "cs_sim"


def _module_paths(text: str) -> set[str]:
    return set(re.findall(r"`((?:[a-z_]+/)*[a-z_]+\.py)`", text))


def test_every_module_named_in_architecture_exists() -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    named = _module_paths(text)
    assert len(named) >= 15  # the document really names the modules
    # a bare name in the data-flow prose is a module of the sub-package being described
    homes = (ROOT, PKG, PKG / "sim", PKG / "kpis", PKG / "synth", PKG / "report")
    missing = sorted(p for p in named if not any((h / p).exists() for h in homes))
    assert missing == []


def test_no_module_over_700_lines() -> None:
    sizes = {
        str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines())
        for p in PKG.rglob("*.py")
    }
    assert {k: v for k, v in sizes.items() if v > 700} == {}


def test_repository_does_not_point_outside_itself() -> None:
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    offenders = []
    for name in files:
        if name.startswith(".ci/"):
            continue
        path = ROOT / name
        if path.suffix not in {".md", ".py", ".ipynb", ".yaml", ".yml", ".toml", ".j2"}:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        outside = ".." + "/shared"  # spelled apart so this file does not match itself
        if outside in text or "shared " + "folder" in text:
            offenders.append(name)
    assert offenders == []
