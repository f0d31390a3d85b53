"""Square's Events API (`POST /v2/events`, SearchEvents) through the `squareup` SDK: events
created since a time, oldest first, page by page with the cursor (every later page
repeats the original query, as Square requires).

Retries are the SDK's: it retries 408, 409, 429 and 5xx answers `max_retries` times,
waiting as `Retry-After` says, else with exponential backoff. Each event is the SDK's
decoded `Event` written back as JSON by its own field names, unknown fields included, so
it reads as the webhook that carried it did. Square returns only events of the last 28
days, and only once Events are enabled for the seller (EnableEvents)."""
from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

from chalicelib.services.provider_sync import ProviderEvent
from local.provider_events import ProviderApiError, UnusableApiKey

API_BASE_ENV = "SQUARE_BASE_URL"
"""Another base URL (https://connect.squareupsandbox.com for the sandbox, tests); the
production API when unset."""
PAGE_SIZE = 100  # SearchEvents' maximum `limit`


class SquareEvents:
    provider = "square"
    retention_days = 28

    def __init__(
        self, api_key: str, *, base_url: str | None = None, page_size: int = PAGE_SIZE, max_retries: int = 5,
    ) -> None:
        if not api_key:
            raise UnusableApiKey("square.api_key is not set in the secrets document")
        from square import Square

        self._client = Square(token=api_key, base_url=base_url or os.environ.get(API_BASE_ENV) or None)
        self._page_size = page_size
        self._max_retries = max_retries

    def pages(self, since: datetime) -> Iterator[Sequence[ProviderEvent]]:
        start = since.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        query: dict[str, Any] = {"filter": {"created_at": {"start_at": start}},
                                 "sort": {"field": "DEFAULT", "order": "ASC"}}
        cursor: str | None = None
        while True:
            response = self._search(query, cursor)
            events = [_provider_event(event) for event in response.events or []]
            yield events
            cursor = response.cursor
            if not cursor:
                return

    def _search(self, query: dict[str, Any], cursor: str | None) -> Any:
        import httpx
        from square.core.api_error import ApiError

        arguments: dict[str, Any] = {"query": query, "limit": self._page_size}
        if cursor:
            arguments["cursor"] = cursor
        try:
            return self._client.events.search_events(
                **arguments, request_options={"max_retries": self._max_retries})
        except ApiError as exc:
            if exc.status_code == 401:
                raise ProviderApiError("square: the API key was refused (401)") from None
            if exc.status_code == 429:
                raise ProviderApiError(
                    f"square: still rate limited (429) after {self._max_retries} retries") from None
            raise ProviderApiError(f"square: SearchEvents failed ({exc.status_code}): {_detail(exc.body)}") from None
        except httpx.HTTPError as exc:
            raise ProviderApiError(f"square: SearchEvents failed ({type(exc).__name__})") from None


def _provider_event(event: Any) -> ProviderEvent:
    document = event.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return ProviderEvent(str(document.get("event_id") or ""), json.dumps(document, separators=(",", ":")).encode())


def _detail(body: Any) -> str:
    """Square's `errors[0].detail`, if the body is Square's error shape."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("detail") or errors[0].get("code") or "error")[:200]
    return "error"
