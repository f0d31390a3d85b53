"""Providers by the name in `POST /webhooks/{provider}`."""
from __future__ import annotations

import pytest

from chalicelib.errors import UnknownProvider
from chalicelib.providers.adyen import AdyenProvider
from chalicelib.providers.generic import GenericProvider
from chalicelib.providers.registry import ProviderRegistry, get_provider, provider_names
from chalicelib.providers.square import SquareProvider
from chalicelib.providers.stripe import StripeProvider


@pytest.mark.parametrize("name, kind", [
    ("stripe", StripeProvider), ("generic", GenericProvider), ("adyen", AdyenProvider),
    ("square", SquareProvider),
])
def test_each_receiver_name_gives_its_provider_named_the_same(name, kind):
    provider = get_provider(name)
    assert isinstance(provider, kind)
    assert provider.name == name
    assert name in provider_names()


def test_a_provider_is_built_once_and_reused():
    assert get_provider("stripe") is get_provider("stripe")


def test_the_default_providers_use_the_contracts_300_second_tolerance():
    assert get_provider("stripe").tolerance_seconds == 300
    assert get_provider("generic").tolerance_seconds == 300


@pytest.mark.parametrize("name", ["paypal", "Stripe", "ADYEN", "", "stripe/", "__class__", "x" * 10_000])
def test_an_unknown_name_is_unknown_provider_404(name):
    with pytest.raises(UnknownProvider) as caught:
        get_provider(name)
    assert caught.value.status == 404
    assert caught.value.code == "unknown_provider"
    assert len(caught.value.message) < 200


def test_a_registry_builds_its_providers_lazily_with_its_own_tolerance():
    built = []

    def factory(tolerance):
        built.append(tolerance)
        return StripeProvider(tolerance_seconds=tolerance)

    registry = ProviderRegistry(tolerance_seconds=30, factories={"stripe": factory})
    assert built == []
    assert registry.get("stripe").tolerance_seconds == 30
    registry.get("stripe")
    assert built == [30]
    assert registry.names == ("stripe",)


@pytest.mark.parametrize("name, acknowledgement", [
    ("stripe", None), ("generic", None), ("square", None), ("adyen", "[accepted]"),
])
def test_only_adyen_asks_for_a_plain_text_acknowledgement(name, acknowledgement):
    assert get_provider(name).acknowledgement == acknowledgement
