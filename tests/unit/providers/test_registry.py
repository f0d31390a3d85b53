"""Providers by the name in `POST /webhooks/{provider}`, found from their registrations."""
from __future__ import annotations

import pytest

from chalicelib.errors import UnknownProvider
from chalicelib.providers.adyen import AdyenProvider
from chalicelib.providers.base import ProviderRegistration
from chalicelib.providers.generic import GenericProvider
from chalicelib.providers.paypal import PayPalProvider
from chalicelib.providers.registry import ProviderRegistry, provider_names, registrations
from chalicelib.providers.square import SquareProvider
from chalicelib.providers.stripe import PROVIDER as STRIPE
from chalicelib.providers.stripe import StripeProvider

registry = ProviderRegistry()


@pytest.mark.parametrize("name, kind", [
    ("stripe", StripeProvider), ("generic", GenericProvider), ("adyen", AdyenProvider),
    ("square", SquareProvider), ("paypal", PayPalProvider),
])
def test_each_receiver_name_gives_its_provider_named_the_same(name, kind):
    provider = registry.get(name)
    assert isinstance(provider, kind)
    assert provider.name == name
    assert name in provider_names()


def test_every_provider_module_of_the_package_is_registered_once_by_name():
    assert {"adyen", "generic", "paypal", "square", "stripe"} <= set(provider_names())
    assert list(provider_names()) == sorted(provider_names())
    assert [r.name for r in registrations()] == list(provider_names())
    assert ProviderRegistry().names == provider_names()


@pytest.mark.parametrize("registration", registrations(), ids=lambda r: r.name)
def test_a_registration_builds_a_provider_of_its_own_name(registration):
    assert registration.build(300).name == registration.name


def test_a_provider_is_built_once_and_reused():
    assert registry.get("stripe") is registry.get("stripe")


def test_the_default_providers_use_the_contracts_300_second_tolerance():
    assert registry.get("stripe").tolerance_seconds == 300
    assert registry.get("generic").tolerance_seconds == 300


def test_every_provider_of_a_registry_gets_the_registrys_tolerance():
    strict = ProviderRegistry(tolerance_seconds=30)
    assert {strict.get(name).tolerance_seconds for name in strict.names} == {30}


@pytest.mark.parametrize("name", ["worldpay", "Stripe", "ADYEN", "", "stripe/", "__class__", "x" * 10_000])
def test_an_unknown_name_is_unknown_provider_404(name):
    with pytest.raises(UnknownProvider) as caught:
        registry.get(name)
    assert caught.value.status == 404
    assert caught.value.code == "unknown_provider"
    assert len(caught.value.message) < 200


def test_a_registry_builds_its_providers_lazily_with_its_own_tolerance():
    built = []

    def factory(tolerance):
        built.append(tolerance)
        return StripeProvider(tolerance_seconds=tolerance)

    only_stripe = ProviderRegistration(name="stripe", build=factory, secrets=STRIPE.secrets)
    registry = ProviderRegistry(tolerance_seconds=30, providers=[only_stripe])
    assert built == []
    assert registry.get("stripe").tolerance_seconds == 30
    registry.get("stripe")
    assert built == [30]
    assert registry.names == ("stripe",)


@pytest.mark.parametrize("name, acknowledgement", [
    ("stripe", None), ("generic", None), ("square", None), ("paypal", None), ("adyen", "[accepted]"),
])
def test_only_adyen_asks_for_a_plain_text_acknowledgement(name, acknowledgement):
    assert registry.get(name).acknowledgement == acknowledgement


@pytest.mark.parametrize("name", ["", "Acme", "acme-pay", "acme/pay", "9acme", "acmé"])
def test_a_provider_name_must_be_lower_case_letters_and_digits(name):
    with pytest.raises(ValueError, match="provider name"):
        ProviderRegistration(name=name, build=StripeProvider, secrets=STRIPE.secrets)
