"""`GET /console` (docs/api.md section 11): the operator console, one self-contained page.

The page (console.html beside this module) carries its CSS and JavaScript inline and reads
only this API's own JSON routes. Its Content-Security-Policy allows exactly that: the inline
blocks by their SHA-256 (computed here from the file, so an edit cannot leave a stale hash),
requests to the page's own origin, nothing from anywhere else. The JavaScript writes every
value it shows as text, never as markup: alert summaries and ids come from providers'
payloads. `make console` (local/console.py) serves this same page."""
from __future__ import annotations

import base64
import hashlib
import html
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from chalicelib.providers.registry import provider_names

PAGE_PATH = Path(__file__).with_name("console.html")
_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)
_PROVIDER_OPTIONS = "{{provider_options}}"


@dataclass(frozen=True)
class ConsolePage:
    body: str
    headers: dict[str, str]


def content_security_policy(page: str) -> str:
    """Only the page's own inline blocks run or style; fetches go to its own origin."""
    hashes: dict[str, list[str]] = {"script": [], "style": []}
    for kind, block in _INLINE.findall(page):
        digest = base64.b64encode(hashlib.sha256(block.encode("utf-8")).digest()).decode()
        hashes[kind].append(f"'sha256-{digest}'")
    return "; ".join([
        "default-src 'none'",
        f"script-src {' '.join(hashes['script'])}",
        f"style-src {' '.join(hashes['style'])}",
        "connect-src 'self'",
        "img-src data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ])


@cache
def console_page() -> ConsolePage:
    """Built once per process: the file, the provider choices, the policy hashing both blocks."""
    options = "\n".join(f'          <option value="{html.escape(name)}">{html.escape(name)}</option>'
                        for name in provider_names())
    page = PAGE_PATH.read_text(encoding="utf-8").replace(_PROVIDER_OPTIONS, options)
    return ConsolePage(page, {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": content_security_policy(page),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    })
