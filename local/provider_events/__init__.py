"""Reading the providers' own events APIs with their official SDKs, for provider sync
(docs/api.md section 10; docs/provider-sync.md).

Outside the Lambda package on purpose: the SDKs are development dependencies
(requirements-dev.txt), and the command runs from an operator's machine or CI. Each module
here turns one provider's list or search responses into pages of
`chalicelib.services.provider_sync.ProviderEvent`, which the provider-neutral sync service
hands to the webhook path. The SDK is imported only when a source is built, so choosing
one provider never needs the other's SDK."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Protocol

from chalicelib.services.provider_sync import ProviderEvent


class ProviderApiError(RuntimeError):
    """The provider's API refused or failed a request after the retries its SDK and this
    module allow (wrong key, rate limited for too long, unreachable). The message names
    the provider and the HTTP status, never the key."""


class UnusableApiKey(ValueError):
    """The secrets section has no `api_key`, or one that cannot be the kind of key asked
    for. The message names the field, never the value."""


class EventSource(Protocol):
    provider: str
    retention_days: int
    """How far back the provider's events API reaches (its documentation): older events
    cannot be fetched, whatever SINCE says."""

    def pages(self, since: datetime) -> Iterator[Sequence[ProviderEvent]]:
        """Every event created at or after `since`, page by page as the API returns them."""


SourceFactory = Callable[..., EventSource]


def source_for(provider: str) -> SourceFactory:
    """The event source class of `provider` (`stripe` or `square`); KeyError otherwise."""
    if provider == "stripe":
        from local.provider_events.stripe_events import StripeEvents

        return StripeEvents
    if provider == "square":
        from local.provider_events.square_events import SquareEvents

        return SquareEvents
    raise KeyError(provider)


PROVIDERS = ("stripe", "square")
