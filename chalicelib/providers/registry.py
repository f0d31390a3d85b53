"""Provider modules by the name in `POST /webhooks/{provider}`.

Each provider is built once, on first use, and reused across invocations (they hold no
per-request state). Adding a provider is one line in `_FACTORIES`."""
from __future__ import annotations

from collections.abc import Callable

from chalicelib.errors import UnknownProvider
from chalicelib.providers.adyen import AdyenProvider
from chalicelib.providers.base import WebhookProvider
from chalicelib.providers.generic import GenericProvider
from chalicelib.providers.signatures import DEFAULT_TOLERANCE_SECONDS
from chalicelib.providers.square import SquareProvider
from chalicelib.providers.stripe import StripeProvider

ProviderFactory = Callable[[int], WebhookProvider]
"""Builds a provider given the signature tolerance in seconds (ignored by providers whose
signatures carry no timestamp)."""

_FACTORIES: dict[str, ProviderFactory] = {
    "stripe": lambda tolerance: StripeProvider(tolerance_seconds=tolerance),
    "generic": lambda tolerance: GenericProvider(tolerance_seconds=tolerance),
    "adyen": lambda tolerance: AdyenProvider(),
    "square": lambda tolerance: SquareProvider(),
}


class ProviderRegistry:
    def __init__(
        self,
        tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
        factories: dict[str, ProviderFactory] | None = None,
    ) -> None:
        self._tolerance = tolerance_seconds
        self._factories = dict(_FACTORIES if factories is None else factories)
        self._built: dict[str, WebhookProvider] = {}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._factories)

    def get(self, name: str) -> WebhookProvider:
        provider = self._built.get(name)
        if provider is None:
            factory = self._factories.get(name)
            if factory is None:
                raise UnknownProvider(f"no webhook receiver for provider '{name[:64]}'")
            provider = self._built[name] = factory(self._tolerance)
        return provider


_DEFAULT = ProviderRegistry()


def get_provider(name: str) -> WebhookProvider:
    """The provider for `name` with the contract's 300 s tolerance; `UnknownProvider`
    (404 unknown_provider) for any other name."""
    return _DEFAULT.get(name)


def provider_names() -> tuple[str, ...]:
    return _DEFAULT.names
