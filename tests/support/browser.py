"""Headless Chromium for browser tests: Debian's `chromium` and `chromium-driver` packages,
driven by selenium with the system chromedriver (nothing is downloaded, ever).

Without them a browser test skips and names the packages to install, except where
`REQUIRE_BROWSER=1` (CI sets it in .ci/run): there a missing browser is a failure."""
from __future__ import annotations

import base64
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

INSTALL_HINT = "apt-get install -y chromium chromium-driver"
WINDOW = (1440, 1000)  # a laptop screen


def browser_paths() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def require_browser() -> tuple[str, str]:
    paths = browser_paths()
    if paths is None:
        message = f"no headless Chromium with its chromedriver on PATH: {INSTALL_HINT}"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return paths


@contextmanager
def headless_chromium() -> Iterator[Any]:
    """One browser session, recording the console and the network (CDP performance log)."""
    browser, driver_path = require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", "--disable-extensions", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--disable-default-apps",
                     f"--window-size={WINDOW[0]},{WINDOW[1]}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        yield driver
    finally:
        driver.quit()


def network_log(driver: Any) -> list[dict[str, Any]]:
    """The DevTools network events since the last call: `method` and `params` each."""
    events = (json.loads(entry["message"])["message"] for entry in driver.get_log("performance"))
    return [event for event in events if event["method"].startswith("Network.")]


def requested_urls(events: list[dict[str, Any]]) -> list[str]:
    """Every URL the page asked for, whether or not the browser then let it go out."""
    return [e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"]


def blocked_by_policy(events: list[dict[str, Any]]) -> list[str]:
    """URLs the browser refused to fetch because the page's Content-Security-Policy forbids them."""
    urls = {e["params"]["requestId"]: e["params"]["request"]["url"]
            for e in events if e["method"] == "Network.requestWillBeSent"}
    return [urls.get(e["params"]["requestId"], "") for e in events
            if e["method"] == "Network.loadingFailed" and e["params"].get("blockedReason") == "csp"]


def save_full_page(driver: Any, path: Path) -> None:
    """A PNG of the whole page, below the fold too (DevTools' own capture)."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
    path.write_bytes(base64.b64decode(shot["data"]))
