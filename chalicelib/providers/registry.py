"""Provider modules by the name in `POST /webhooks/{provider}`.

A provider is a module of this package that declares `PROVIDER`, a `ProviderRegistration`;
the registry finds every such module, so adding a provider touches nothing here. Each
provider is built once, on first use, with the stage's signature tolerance, and reused
across invocations (they hold no per-request state)."""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from functools import cache

from chalicelib.errors import UnknownProvider
from chalicelib.providers.base import ProviderRegistration, WebhookProvider
from chalicelib.providers.signatures import DEFAULT_TOLERANCE_SECONDS

_PACKAGE = "chalicelib.providers"


@cache
def registrations() -> tuple[ProviderRegistration, ...]:
    """Every registered provider, by name (the order of the secrets document's sections)."""
    package = importlib.import_module(_PACKAGE)
    found: dict[str, ProviderRegistration] = {}
    for module_info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{_PACKAGE}.{module_info.name}")
        registration = getattr(module, "PROVIDER", None)
        if not isinstance(registration, ProviderRegistration):
            continue
        if registration.name in found:
            raise RuntimeError(f"two provider modules register the name {registration.name!r}")
        found[registration.name] = registration
    return tuple(found[name] for name in sorted(found))


def provider_names() -> tuple[str, ...]:
    return tuple(registration.name for registration in registrations())


class ProviderRegistry:
    """The providers one stage serves, all with that stage's signature tolerance."""

    def __init__(
        self,
        tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
        providers: Iterable[ProviderRegistration] | None = None,
    ) -> None:
        self._tolerance = tolerance_seconds
        chosen = registrations() if providers is None else providers
        self._registrations = {registration.name: registration for registration in chosen}
        self._built: dict[str, WebhookProvider] = {}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._registrations)

    def get(self, name: str) -> WebhookProvider:
        """The provider for `name`; `UnknownProvider` (404 unknown_provider) for any other."""
        provider = self._built.get(name)
        if provider is None:
            registration = self._registrations.get(name)
            if registration is None:
                raise UnknownProvider(f"no webhook receiver for provider '{name[:64]}'")
            provider = self._built[name] = registration.build(self._tolerance)
        return provider
