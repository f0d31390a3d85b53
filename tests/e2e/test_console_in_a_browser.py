"""The operator console (docs/api.md section 11) in a real browser, under `make run`.

One headless Chromium session: the page loads what the stage holds (chart, alerts, dead
letters, reconciliation reports), finds a transaction, redrives a queue, and in all of it
asks no other origin for anything and logs no error. A panel whose route the app does not
serve must say it is unavailable while the rest of the page works. It leaves a screenshot in
test-artifacts/console.png."""
from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest

from tests.support.browser import (
    blocked_by_policy, headless_chromium, network_log, require_browser, requested_urls, save_full_page,
)
from tests.support.local_stack import running_local_stack
from tests.support.signing import REPO_ROOT, generic_headers

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the local stack is supervised on Linux")

ARTIFACTS = REPO_ROOT / "test-artifacts"
DAY = 86400
# (payment id, status, days before today it was created)
PAYMENTS = [("ord-1001", "succeeded", 0), ("ord-1002", "succeeded", 0), ("ord-1003", "disputed", 0),
            ("ord-1004", "failed", 3), ("ord-1005", "refunded", 3), ("ord-1006", "succeeded", 3),
            ("ord-1007", "pending", 8), ("ord-1008", "succeeded", 12), ("ord-1009", "canceled", 12)]
FAILED = "generic/ord-1004"
PANEL_ROUTES = {"alerts": "/admin/alerts", "dead-letters": "/admin/dead-letters",
                "reconciliations": "/admin/reconciliations"}
"""Panels whose routes other parts of section 11 add; until the app serves one, its panel
must say so (and the rest of the page work)."""


def served_panels() -> set[str]:
    from app import app

    return {panel for panel, path in PANEL_ROUTES.items() if path in app.routes}


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(moment: float) -> str:
    return datetime.fromtimestamp(moment, tz=timezone.utc).date().isoformat()


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def seed_payments(api: str, now: float) -> dict[str, Counter[str]]:
    """Posts each payment as a signed generic webhook; answers the expected counts by day."""
    expected: dict[str, Counter[str]] = {}
    for payment_id, status, days_back in PAYMENTS:
        created = now - days_back * DAY
        body = json.dumps({"type": f"payment.{status}", "timestamp": _iso(created + 60), "data": {
            "id": payment_id, "amount": 1250, "currency": "EUR", "status": status, "merchant_id": "m-42",
            "created_at": _iso(created), "amount_refunded": 1250 if status == "refunded" else 0}}).encode()
        request = urllib.request.Request(f"{api}/webhooks/generic", data=body, method="POST",
                                         headers=generic_headers(body, f"msg_{payment_id}"))
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["events"][0]["outcome"] == "applied"
        expected.setdefault(_day(created), Counter())[status] += 1
    return expected


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = condition()
        except urllib.error.HTTPError:
            result = None
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def chart_counts(browser: Any) -> dict[str, dict[str, int]]:
    return browser.execute_script("""
        var groups = document.querySelectorAll("#volume-chart g.day");
        var out = {};
        groups.forEach(function (g) {
          var bars = {};
          g.querySelectorAll("rect.bar").forEach(function (r) { bars[r.dataset.status] = Number(r.dataset.count); });
          out[g.dataset.date] = bars;
        });
        return out;""")


def table_rows(browser: Any, table_id: str) -> list[list[str]]:
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('#' + arguments[0] + ' tbody tr')).map("
        "function (row) { return Array.from(row.cells).map(function (c) { return c.textContent; }); });",
        table_id)


def state(browser: Any, panel: str) -> tuple[str, str]:
    element = browser.find_element("id", f"{panel}-state")
    return element.get_attribute("class"), element.text


def test_the_console_shows_the_stage_and_asks_no_other_origin() -> None:
    require_browser()  # skip (or fail in CI) before starting anything
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    with running_local_stack() as stack, headless_chromium() as browser:
        expected = seed_payments(stack.api, time.time())
        today = _day(time.time())
        first = _day(time.time() - 29 * DAY)
        total = sum(sum(c.values()) for c in expected.values())
        wait_until(lambda: sum(d["count"] for d in _get(
            f"{stack.api}/analytics/daily?from={first}&to={today}")["days"]) == total, 20, "the daily figures")
        served = served_panels()
        if "alerts" in served:
            wait_until(lambda: any(a["transaction"] == FAILED for a in _get(f"{stack.api}/admin/alerts")["items"]),
                       20, "the payment_failed alert")

        browser.get(f"{stack.api}/console")
        wait = WebDriverWait(browser, 15)
        wait.until(lambda b: b.execute_script("return document.body.dataset.loaded") == "1")

        # The chart: one bar group per day of the last 30, bars stacked by status where there is data.
        bars = chart_counts(browser)
        assert len(bars) == 30 and min(bars) == first and max(bars) == today
        assert {day: counts for day, counts in bars.items() if counts} == \
            {day: dict(counts) for day, counts in expected.items()}
        assert len(browser.find_elements(By.CSS_SELECTOR, "#volume-legend li")) == 7
        assert state(browser, "volume")[0] == "state done"

        # Alerts, dead-letter depths (with a redrive button each) and reconciliation reports.
        for panel in set(PANEL_ROUTES) - served:
            assert state(browser, panel) == (
                "state unavailable", f"Unavailable: this stage does not serve GET {PANEL_ROUTES[panel]} yet.")
        if "alerts" in served:
            alerts = table_rows(browser, "alerts-table")
            assert any(row[1] == "payment_failed" and row[3] == FAILED for row in alerts), alerts
        if "dead-letters" in served:
            queues = table_rows(browser, "dead-letters-table")
            assert len(queues) >= 2 and all(row[1].isdigit() and row[2] == "Redrive" for row in queues), queues
            # A redrive is a POST from the page; the panel says what it did and reloads the depths.
            browser.find_element(By.CSS_SELECTOR, "#dead-letters-table tbody button").click()
            wait.until(lambda b: "redriven" in state(b, "dead-letters")[1])
            assert state(browser, "dead-letters")[0] == "state done"
        if "reconciliations" in served:
            assert state(browser, "reconciliations")[0] == "state done"

        # The search finds a transaction by provider and id, with its events.
        Select(browser.find_element(By.ID, "search-provider")).select_by_value("generic")
        browser.find_element(By.ID, "search-id").send_keys("ord-1004")
        browser.find_element(By.CSS_SELECTOR, "#search-form button[type=submit]").click()
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#search-result h3"))
        assert browser.find_element(By.CSS_SELECTOR, "#search-result h3").text == FAILED
        facts = browser.execute_script(
            "var dts = document.querySelectorAll('#search-result dt');"
            "var out = {}; dts.forEach(function (dt) { out[dt.textContent] = dt.nextElementSibling.textContent; });"
            "return out;")
        assert (facts["status"], facts["amount"], facts["currency"]) == ("failed", "1250", "EUR")
        assert table_rows(browser, "search-result")[0][:2] == ["msg_ord-1004", "payment.failed"]

        ARTIFACTS.mkdir(exist_ok=True)
        save_full_page(browser, ARTIFACTS / "console.png")

        # Nothing left the origin, and nothing went wrong on the way.
        origin = stack.api
        resources = browser.execute_script(
            "return performance.getEntriesByType('resource').map(function (e) { return e.name; });")
        network = requested_urls(network_log(browser))
        paths = {urllib.parse.urlsplit(url).path for url in network}
        assert {"/console", "/analytics/daily", *PANEL_ROUTES.values(), "/transactions/generic/ord-1004"} <= paths
        assert ("dead-letters" not in served) or any(path.endswith("/redrive") for path in paths), network
        assert [url for url in resources + network if not url.startswith((origin + "/", "data:"))] == []
        # An answer that is not 2xx is logged by the browser; only an unserved panel route may be one.
        unserved = tuple(f"{origin}{PANEL_ROUTES[panel]}" for panel in set(PANEL_ROUTES) - served)
        errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert [entry for entry in errors if not (unserved and entry["message"].startswith(unserved)
                                                  and "status of 404" in entry["message"])] == []

        # The page's Content-Security-Policy itself blocks another origin.
        blocked = browser.execute_async_script("""
            var done = arguments[arguments.length - 1];
            document.addEventListener("securitypolicyviolation", function (e) { done(e.blockedURI); });
            var image = document.createElement("img");
            image.src = "https://cdn.example.com/pixel.png";
            document.body.appendChild(image);""")
        assert blocked.startswith("https://cdn.example.com")
        events = network_log(browser)
        assert blocked_by_policy(events) == ["https://cdn.example.com/pixel.png"]
        assert not [e for e in events if e["method"] == "Network.responseReceived"
                    and "example.com" in e["params"]["response"]["url"]]
