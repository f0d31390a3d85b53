"""The signing-secrets document: one section per registered provider, read leniently at run
time and strictly when an operator's file is checked."""
from __future__ import annotations

import json

import pytest

from chalicelib.providers.adyen import AdyenSecrets
from chalicelib.providers.registry import provider_names, registrations
from chalicelib.providers.secrets import (
    InvalidSecretsDocument,
    WebhookSecrets,
    load_document,
    validate_document,
)
from chalicelib.providers.stripe import StripeSecrets

SECRET = "whsec_do_not_print_me_0123456789"


def test_the_document_has_one_section_per_registered_provider_of_its_declared_model():
    document = WebhookSecrets()
    for registration in registrations():
        assert type(document.section(registration.name)) is registration.secrets
    assert set(WebhookSecrets.model_fields) == {r.name for r in registrations()}


def test_a_provider_left_out_of_the_document_gets_its_empty_section():
    document = load_document(json.dumps({"stripe": {"signing_secrets": [SECRET]}}))
    assert document.section("stripe") == StripeSecrets(signing_secrets=[SECRET])
    assert document.section("adyen") == AdyenSecrets()


def test_the_document_never_prints_its_secrets():
    document = load_document(json.dumps({"stripe": {"signing_secrets": [SECRET]}}))
    assert SECRET not in repr(document) and SECRET not in str(document)


def test_at_run_time_a_section_no_provider_reads_is_ignored():
    document = load_document(json.dumps({"worldpay": {"merchant_codes": ["x"]}, "stripe": {"later": 1}}))
    assert document == WebhookSecrets()


@pytest.mark.parametrize("document, field", [
    ({"stripe": {"signing_secrets": SECRET}}, "stripe.signing_secrets"),
    ({"adyen": {"basic_auth": {"username": SECRET}}}, "adyen.basic_auth.password"),
    ({"square": []}, "square"),
])
def test_a_section_of_the_wrong_shape_is_refused_naming_the_field_never_the_value(document, field):
    for read in (load_document, validate_document):
        with pytest.raises(InvalidSecretsDocument) as caught:
            read(json.dumps(document))
        assert field in str(caught.value)
        assert SECRET not in str(caught.value)


@pytest.mark.parametrize("document, named", [
    ({"strpie": {"signing_secrets": [SECRET]}}, "provider 'strpie'"),
    ({"stripe": {"signing_secret": [SECRET]}}, "field stripe.signing_secret"),
])
def test_an_operators_file_naming_what_no_provider_reads_is_refused(document, named):
    with pytest.raises(InvalidSecretsDocument) as caught:
        validate_document(json.dumps(document))
    assert named in str(caught.value)
    assert ", ".join(provider_names()) in str(caught.value)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize("text", ["not json", "[]", '"stripe"'])
def test_an_operators_file_that_is_not_a_json_object_is_refused(text):
    with pytest.raises(InvalidSecretsDocument):
        validate_document(text)


@pytest.mark.parametrize("provider", ["stripe", "square"])
def test_a_provider_section_may_carry_the_api_key_provider_sync_reads(provider):
    document = validate_document(json.dumps({provider: {"api_key": SECRET}}))
    assert document.section(provider).api_key == SECRET
    assert SECRET not in repr(document)
    assert WebhookSecrets().section(provider).api_key == ""


def test_an_api_key_of_the_wrong_type_is_refused_naming_the_field():
    with pytest.raises(InvalidSecretsDocument) as caught:
        validate_document(json.dumps({"stripe": {"api_key": [SECRET]}}))
    assert "stripe.api_key" in str(caught.value) and SECRET not in str(caught.value)
