"""The report as a person opens it: index.html and a stage page in headless Chromium.

A small report (three stages of data/example, one of which fails on purpose) is opened
from disk in Debian's ``chromium`` driven by selenium (the driver given by path, nothing
downloaded: ``SE_OFFLINE``; the browser resolves no host name). The index must load
without console errors, with every figure thumbnail loaded; screenshots go to
``tests/_output/`` (git-ignored) for review. The set-up installs the browser with
apt-get when it is absent and this runs as root; otherwise the test is skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from cs_sim.report._params import params_from_dict
from cs_sim.report._runner import run_report

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "tests" / "_output"
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


@pytest.fixture(scope="module")
def driver() -> Iterator[object]:
    if not _have_browser():
        why = _apt_install()
        if why is not None:
            pytest.skip(f"no /usr/bin/chromium and /usr/bin/chromedriver: {why}")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    old = os.environ.get("SE_OFFLINE")
    os.environ["SE_OFFLINE"] = "true"  # selenium manager must download nothing
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1000", "--host-resolver-rules=MAP * ~NOTFOUND"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    browser.set_page_load_timeout(60)
    try:
        yield browser
    finally:
        browser.quit()
        if old is None:
            os.environ.pop("SE_OFFLINE", None)
        else:
            os.environ["SE_OFFLINE"] = old


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    params = params_from_dict({
        "name": "browser", "data": "data/example",
        "only": ["03_kpi_baseline", "05_journey", "07_plan"],
        "stages": {"03_kpi_baseline": {"by": "plan", "start": "2025-01"},
                   "05_journey": {"activation_share": 5.0}},  # fails on purpose
    })
    run = run_report(params, reports_dir=tmp_path_factory.mktemp("reports"), progress=False)
    assert [s.status for s in run.stages] == ["ok", "failed", "ok"]
    return run.folder


def _severe(browser) -> list[str]:
    return [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def _full_page(browser, path: Path) -> None:
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, min(max(int(height) + 40, 800), 6000))
    OUTPUT.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(path))
    browser.set_window_size(1280, 1000)


def test_index_renders_without_console_errors(driver, report: Path) -> None:
    driver.get((report / "index.html").as_uri())
    assert driver.title == "Report: browser"
    assert _severe(driver) == []
    text = driver.find_element("tag name", "body").text
    assert "1 of 3 stages FAILED" in text
    assert "must be in (0, 1], got 5.0" in text
    # open every figure list: each thumbnail loads from figures/ and has its alt text
    driver.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    from selenium.webdriver.support.ui import WebDriverWait

    for img in driver.find_elements("tag name", "img"):  # thumbnails load lazily
        driver.execute_script("arguments[0].scrollIntoView()", img)
    script = ("return [...document.images].map(i => [i.getAttribute('src'), i.complete ? "
              "i.naturalWidth : -1, i.alt])")
    WebDriverWait(driver, 20).until(
        lambda b: all(w != -1 for _, w, _ in b.execute_script(script)))
    images = driver.execute_script(script)
    assert images, "the index shows the figures"
    for src, width, alt in images:
        assert width > 0, f"{src} did not load"
        assert alt.strip()
    # every stage's page link works
    links = driver.execute_script(
        "return [...document.querySelectorAll('a')].map(a => a.getAttribute('href'))")
    for href in links:
        if not href.startswith("#"):
            assert (report / href).exists(), href
    driver.execute_script("document.querySelectorAll('details').forEach(d => d.open = false)"
                          "; window.scrollTo(0, 0)")
    _full_page(driver, OUTPUT / "report_index.png")
    assert (OUTPUT / "report_index.png").stat().st_size > 20_000
    assert _severe(driver) == []


def test_stage_page_renders(driver, report: Path) -> None:
    driver.get((report / "html" / "03_kpi_baseline.html").as_uri())
    assert driver.title == "03 · KPI baseline"
    # offline, MathJax (formulas) cannot come from its CDN; nothing else may fail
    errors = [m for m in _severe(driver) if "mathjax" not in m.lower()]
    assert errors == []
    images = driver.execute_script(
        "return [...document.images].map(i => [i.complete ? i.naturalWidth : -1, i.alt])")
    assert images and all(w > 0 and alt.strip() for w, alt in images)
    back = driver.find_element("link text", "\u2190 Report index")
    assert back.get_attribute("href").endswith("/index.html")
    _full_page(driver, OUTPUT / "report_stage_03.png")
