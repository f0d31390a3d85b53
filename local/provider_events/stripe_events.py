"""Stripe's List Events (`GET /v1/events`, `created[gte]`, `starting_after`) through
stripe-python's `StripeClient`.

Retries: the SDK's own `max_network_retries` covers connection errors, 409s, 5xx and any
answer carrying `Stripe-Should-Retry: true`; it does not retry a plain 429, which Stripe's
rate-limit guide says to retry with exponential backoff, so this module does that, a
bounded number of times. Events are newest first (Stripe's order); the merge does not
depend on order. Each event is kept as the JSON the API answered (the page's decoded
body, not the SDK's objects), which is what its webhook carried."""
from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from chalicelib.backoff import retry_attempts
from chalicelib.services.provider_sync import ProviderEvent
from local.provider_events import ProviderApiError, UnusableApiKey

API_BASE_ENV = "STRIPE_API_BASE"
"""Another base URL for the API (tests, a proxy); Stripe's own when unset."""
PAGE_SIZE = 100  # List Events' maximum `limit`
RATE_LIMIT_ATTEMPTS = 6
RATE_LIMIT_BASE_SECONDS = 1.0
KEY_PREFIXES = ("sk_", "rk_")


class StripeEvents:
    provider = "stripe"
    retention_days = 30

    def __init__(
        self, api_key: str, *, base_url: str | None = None, page_size: int = PAGE_SIZE,
        max_network_retries: int = 3, sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not api_key:
            raise UnusableApiKey("stripe.api_key is not set in the secrets document")
        if not api_key.startswith(KEY_PREFIXES):
            raise UnusableApiKey("stripe.api_key must be a secret key (sk_...) or a restricted key "
                                 "(rk_...) allowed to read events")
        import stripe

        base_url = base_url or os.environ.get(API_BASE_ENV) or None
        self._client = stripe.StripeClient(
            api_key, base_addresses={"api": base_url} if base_url else None,
            max_network_retries=max_network_retries,
        )
        self._page_size = page_size
        self._sleep = sleep

    def pages(self, since: datetime) -> Iterator[Sequence[ProviderEvent]]:
        params: dict[str, Any] = {"created": {"gte": int(since.timestamp())}, "limit": self._page_size}
        while True:
            page = self._list(params)
            events = [ProviderEvent(event["id"], json.dumps(event, separators=(",", ":")).encode())
                      for event in page.last_response.data["data"]]
            yield events
            if not page.has_more or not events:
                return
            params = {**params, "starting_after": events[-1].event_id}

    def _list(self, params: dict[str, Any]) -> Any:
        import stripe

        for _ in retry_attempts(RATE_LIMIT_ATTEMPTS, self._sleep, RATE_LIMIT_BASE_SECONDS):
            try:
                return self._client.v1.events.list(params=params)
            except stripe.RateLimitError:
                continue
            except stripe.AuthenticationError as exc:
                raise ProviderApiError(f"stripe: the API key was refused ({exc.http_status})") from None
            except stripe.PermissionError as exc:  # Stripe's message quotes part of the key
                raise ProviderApiError(f"stripe: the API key may not read events ({exc.http_status}); "
                                       f"a restricted key needs Events read access") from None
            except stripe.StripeError as exc:
                raise ProviderApiError(
                    f"stripe: List Events failed ({exc.http_status or 'no response'}): "
                    f"{exc.user_message or type(exc).__name__}") from None
        raise ProviderApiError(f"stripe: still rate limited (429) after {RATE_LIMIT_ATTEMPTS} attempts")
