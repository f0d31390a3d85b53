"""Which providers keep their event ids for ever (contract section 2): exactly those whose
signature covers no timestamp. Every registered provider must say."""
from __future__ import annotations

from chalicelib.providers.registry import ProviderRegistry, provider_names

REGISTRY = ProviderRegistry()


def test_adyen_and_square_dedupe_for_ever_and_timestamped_schemes_do_not() -> None:
    forever = {name for name in provider_names() if REGISTRY.get(name).dedupe_forever is True}
    assert forever == {"adyen", "square"}
    assert all(isinstance(REGISTRY.get(name).dedupe_forever, bool) for name in provider_names())
