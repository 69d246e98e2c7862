"""cs_sim.paths: a relative path means the same folder from the repository root, a
notebook's folder or any other working directory of a checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from cs_sim.paths import repo_root, resolve_path

ROOT = Path(__file__).resolve().parents[1]


def test_checkout_root_is_found() -> None:
    assert repo_root() == ROOT


@pytest.mark.parametrize("cwd", [ROOT, ROOT / "notebooks", ROOT / "tests"])
def test_relative_paths_are_read_from_the_root(monkeypatch: pytest.MonkeyPatch,
                                               cwd: Path) -> None:
    monkeypatch.chdir(cwd)
    assert resolve_path("data/example") == ROOT / "data" / "example"
    assert (resolve_path("data/example") / "accounts.csv").exists()


def test_absolute_paths_are_kept(tmp_path: Path) -> None:
    assert resolve_path(tmp_path) == tmp_path


def test_a_path_only_under_the_cwd_is_taken_from_there(monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    (tmp_path / "my_export").mkdir()
    monkeypatch.chdir(tmp_path)
    assert resolve_path("my_export") == tmp_path / "my_export"
    # a path that exists nowhere is read from the root (the checkout's convention)
    assert resolve_path("nowhere") == ROOT / "nowhere"


def test_installed_package_uses_the_cwd(monkeypatch: pytest.MonkeyPatch,
                                        tmp_path: Path) -> None:
    import cs_sim.paths as paths

    monkeypatch.setattr(paths, "repo_root", lambda: None)
    monkeypatch.chdir(tmp_path)
    assert paths.resolve_path("data/example") == tmp_path / "data" / "example"
