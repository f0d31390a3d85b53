"""`GET /console` (docs/api.md section 11): one self-contained page whose
Content-Security-Policy lets exactly its own inline blocks run and its own origin answer."""
from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

from chalice.test import Client

from app import app
from chalicelib.api.console import console_page, content_security_policy
from chalicelib.providers.registry import provider_names


class Inventory(HTMLParser):
    """Every tag with its attributes, and the text of each <script> and <style>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.blocks: dict[str, list[str]] = {"script": [], "style": []}
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in self.blocks:
            self._open = tag
            self.blocks[tag].append("")

    def handle_endtag(self, tag: str) -> None:
        self._open = None if tag == self._open else self._open

    def handle_data(self, data: str) -> None:
        if self._open:
            self.blocks[self._open][-1] += data


def inventory() -> Inventory:
    parsed = Inventory()
    parsed.feed(console_page().body)
    return parsed


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in policy.split(";"))}


def test_the_route_serves_the_page_as_html_with_its_policy() -> None:
    with Client(app) as client:
        response = client.http.get("/console")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.body.decode() == console_page().body
    assert response.headers["Content-Security-Policy"] == content_security_policy(console_page().body)
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_only_the_pages_own_inline_blocks_may_run_or_style() -> None:
    parsed, policy = inventory(), directives(console_page().headers["Content-Security-Policy"])
    assert len(parsed.blocks["script"]) == 1 and len(parsed.blocks["style"]) == 1
    assert policy["script-src"] == [sha256(parsed.blocks["script"][0])]
    assert policy["style-src"] == [sha256(parsed.blocks["style"][0])]
    assert policy["default-src"] == ["'none'"] and policy["connect-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_an_edited_block_gets_a_new_hash() -> None:
    page = console_page().body
    assert content_security_policy(page.replace("DAYS = 30", "DAYS = 31")) != content_security_policy(page)


def test_the_page_loads_nothing_from_anywhere_and_has_nothing_its_policy_would_block() -> None:
    parsed = inventory()
    references = [(tag, name, value) for tag, attrs in parsed.tags for name, value in attrs.items()
                  if name in ("src", "href", "action", "srcset", "poster", "data")]
    assert references == [("link", "href", "data:,")]  # the empty favicon: no request
    handlers = [(tag, name) for tag, attrs in parsed.tags for name in attrs if name.startswith("on") or name == "style"]
    assert handlers == []  # inline handlers and style attributes would be blocked
    assert not re.search(r"url\(|@import", parsed.blocks["style"][0])
    assert not re.search(r"https?://", parsed.blocks["script"][0].replace("http://www.w3.org/2000/svg", ""))


def test_the_search_offers_every_provider() -> None:
    options = [attrs["value"] for tag, attrs in inventory().tags if tag == "option"]
    assert options == list(provider_names())


def test_every_panel_has_a_heading_and_a_live_loading_state() -> None:
    parsed = inventory()
    sections = [attrs for tag, attrs in parsed.tags if tag == "section"]
    states = {attrs["id"]: attrs for tag, attrs in parsed.tags if attrs.get("class") == "state"}
    headings = {attrs["id"] for tag, attrs in parsed.tags if tag == "h2"}
    assert {s["id"] for s in sections} == {"volume", "alerts", "dead-letters", "reconciliations", "search"}
    for section in sections:
        assert section["aria-labelledby"] in headings
        assert states[f"{section['id']}-state"]["aria-live"] == "polite"
    labelled = {attrs["for"] for tag, attrs in parsed.tags if tag == "label"}
    assert {attrs["id"] for tag, attrs in parsed.tags if tag in ("input", "select")} <= labelled
