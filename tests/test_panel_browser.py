"""The what-if panel as a person meets it: ``cs-sim panel`` in headless Chromium.

The page is served by ``cs-sim panel`` (Voila) on a free port of 127.0.0.1 in a
subprocess, stopped by its own PID at the end. Debian's ``chromium`` and
``chromium-driver`` drive it through selenium (the driver is given by path, so nothing
is downloaded; ``SE_OFFLINE`` forbids it, and the browser resolves no host but
127.0.0.1). The set-up installs the two packages with apt-get when they are absent and
this runs as root; otherwise the test is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cs_sim.widgets.serve import free_port

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "templates" / "scenarios" / "baseline.yaml"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PACKAGES = ["chromium", "chromium-driver"]


def _have_browser() -> bool:
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


def _apt_install() -> str | None:
    """Install Debian's Chromium and its driver; None when done, else why not."""
    if not shutil.which("apt-get"):
        return "apt-get is not available (not a Debian machine)"
    if os.geteuid() != 0:
        return "installing chromium needs root (run: apt-get install -y chromium chromium-driver)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", *PACKAGES]
    for steps in ([install], [["apt-get", "update", "-q"], install]):
        ok = all(subprocess.run(cmd, env=env, capture_output=True, timeout=900).returncode == 0
                 for cmd in steps)
        if ok and _have_browser():
            return None
    return "apt-get install chromium chromium-driver failed"


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's headless Chromium (installed when absent and possible)."""
    if not _have_browser():
        why = _apt_install()
        if why is not None:
            pytest.skip(f"no /usr/bin/chromium and /usr/bin/chromedriver: {why}")
    return CHROMIUM


@pytest.fixture()
def driver(chromium: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_OFFLINE", "true")  # selenium manager must download nothing
    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1800",
                # the page asks a CDN for icon fonts: resolve no host but this machine's
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"):
        options.add_argument(arg)
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    browser.set_page_load_timeout(60)
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[str]:
    """``cs-sim panel`` of a small baseline on a free port; stopped by its PID."""
    scenario = tmp_path / "small.yaml"
    scenario.write_text(f"extends: {BASELINE}\nname: small\npopulation: {{n_accounts: 300}}\n"
                        "horizon_months: 12\nwarmup_months: 12\n"
                        "acquisition: {new_logos_per_month: 6}\n")
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cs_sim.cli", "panel", str(scenario), "--port", str(port),
         "-r", "3", "--seed", "5"],
        stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:  # wait for the port (a page request would start a kernel of its own)
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
                break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("cs-sim panel did not serve the page:\n"
                            + (tmp_path / "server.log").read_text())
            time.sleep(0.3)
        yield url
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)  # Voila stops its kernel on SIGTERM
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()
    assert "cs-sim panel: the what-if panel of small.yaml" in (
        tmp_path / "server.log").read_text()


def _text(browser, selector: str) -> str:
    from selenium.webdriver.common.by import By

    found = browser.find_elements(By.CSS_SELECTOR, selector)
    return found[0].text if found else ""


def _wait(browser, condition, what: str, timeout: float = 60) -> None:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        WebDriverWait(browser, timeout, poll_frequency=0.2).until(lambda b: condition(b))
    except TimeoutException:
        pytest.fail(f"the page never showed {what}; status: {_text(browser, '.cs-sim-status')}")


def _image(browser, selector: str) -> tuple[str, int]:
    """The ``src`` and the natural height of the image of a widget (0: not loaded)."""
    return browser.execute_script(
        "const i = document.querySelector(arguments[0] + ' img, img' + arguments[0]);"
        "return i ? [i.src, i.complete ? i.naturalHeight : 0] : ['', 0];", selector)


def _tier_cell(browser, tier: str, column: str) -> str:
    """The text of a cell of the tiers table (row: tier, column: its heading)."""
    return browser.execute_script(
        "const t = document.querySelector('.cs-sim-tiers table'); if (!t) return '';"
        "const heads = [...t.querySelectorAll('thead th')].map(h => h.innerText.trim());"
        "const col = heads.indexOf(arguments[1]);"
        "for (const r of t.querySelectorAll('tbody tr')) {"
        "  const cells = r.querySelectorAll('td');"
        "  if (cells[0].innerText.trim() === arguments[0]) return cells[col].innerText; }"
        "return '';", tier, column)


def test_moving_a_headcount_slider_redraws_the_page(served: str, driver, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(served)
    _wait(driver, lambda b: "Up to date (request 1" in _text(b, ".cs-sim-status"),
          "the first comparison")
    assert "panel_from_environment" not in _text(driver, "body")  # the code is hidden
    forest_before = _image(driver, ".cs-sim-forest")
    decision_before = _text(driver, ".cs-sim-decision")
    assert forest_before[1] > 0 and _tier_cell(driver, "high_touch", "CSMs") == "4 \u2192 4"
    driver.save_screenshot(str(tmp_path / "panel_before.png"))

    slider = ".cs-sim-control-tier-high_touch-headcount"
    handle = driver.find_element(By.CSS_SELECTOR, f"{slider} .noUi-handle")
    handle.click()
    handle.send_keys(Keys.ARROW_RIGHT)
    handle.send_keys(Keys.ARROW_RIGHT)
    _wait(driver, lambda b: _text(b, f"{slider} .widget-readout") == "6", "the slider at 6")
    _wait(driver, lambda b: "Up to date" in _text(b, ".cs-sim-status")
          and _tier_cell(b, "high_touch", "CSMs") == "4 \u2192 6",
          "the comparison with 6 high-touch CSMs")
    driver.save_screenshot(str(tmp_path / "panel.png"))

    # the headcount shown matches the slider; the figures and the decision changed
    assert _text(driver, f"{slider} .widget-readout") == "6"
    assert _tier_cell(driver, "high_touch", "CSMs") == "4 \u2192 6"
    assert _tier_cell(driver, "low_touch", "CSMs") == "3 \u2192 3"
    forest_after = _image(driver, ".cs-sim-forest")
    assert forest_after[0] != forest_before[0]
    # before: one line saying nothing changed; after: the chart of the differences
    assert forest_after[1] > 2 * forest_before[1]
    decision_after = _text(driver, ".cs-sim-decision")
    assert decision_after != decision_before
    assert "The variant costs" in decision_after and "more over the 12 months" in decision_after
    assert "Probability that the variant is better" in decision_after
    assert (tmp_path / "panel.png").stat().st_size > 10_000
