"""`make lab` starts JupyterLab at the repository root on the index notebook, as root too.

The server really starts (the Makefile's own recipe, with pass-through ``ARGS``); its
contents API lists the repository's top level, so data/ and templates/ can be opened.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_lab_serves_the_repository_root_with_flags_passed_through() -> None:
    port = _free_port()
    args = f"--no-browser --port={port} --IdentityProvider.token= --ServerApp.ip=127.0.0.1"
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"ARGS={args}"], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        listing = None
        for _ in range(120):
            if proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{base}/api/contents/", timeout=2) as r:
                    listing = json.load(r)
                break
            except OSError:
                time.sleep(0.5)
        if listing is None:
            out = proc.stdout.read().decode() if proc.poll() is not None else ""
            pytest.fail(f"JupyterLab did not start: {out[-2000:]}")
        names = {c["name"] for c in listing["content"]}
        assert {"data", "templates", "notebooks", "reports", "README.md"} <= names
        with urllib.request.urlopen(f"{base}/api/contents/notebooks/00_index.ipynb",
                                    timeout=5) as r:
            assert json.load(r)["type"] == "notebook"
        if os.geteuid() == 0:  # the case this recipe exists for: root needs --allow-root
            assert proc.poll() is None
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    recipe = (ROOT / "Makefile").read_text()
    assert "notebooks/00_index.ipynb" in recipe.split("\nlab:")[1].split("\n\n")[0]
