"""PayPal's offline verification (contract section 12): a test authority stands in for
DigiCert, a certificate host on 127.0.0.1 for PayPal's, and deliveries are signed as PayPal
signs them (tests/support/paypal.py)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.errors import CertificateUnavailable, SignatureError
from chalicelib.providers.base import WebhookRequest
from chalicelib.providers.paypal import DEFAULT_CERT_URL_PREFIXES, PayPalProvider, PayPalSecrets
from chalicelib.providers.paypal.certificates import CertificateSource
from chalicelib.providers.secrets import InvalidSecretsDocument, WebhookSecrets, validate_document
from tests.support.paypal import (
    OTHER_WEBHOOK_ID, VALID_UNTIL, WEBHOOK_ID, certificate_host, paypal_headers, paypal_secrets,
    unreachable_prefix,
)
from tests.support.signing import fixture_bytes

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
SENT_AT = int(NOW.timestamp()) - 10
BODY = fixture_bytes("paypal", "PAYMENT.CAPTURE.COMPLETED")


def configured(**section: object) -> WebhookSecrets:
    return WebhookSecrets.model_validate({"paypal": paypal_secrets(**section)})


def delivery(body: bytes = BODY, **signing: object) -> WebhookRequest:
    signing.setdefault("at", SENT_AT)
    return WebhookRequest.of(body, paypal_headers(body, **signing))  # type: ignore[arg-type]


@pytest.fixture
def provider() -> PayPalProvider:
    """A provider with its own certificate cache (as a fresh Lambda container has)."""
    return PayPalProvider(300, CertificateSource(timeout_seconds=0.5))


def refused(provider: PayPalProvider, request: WebhookRequest, secrets: WebhookSecrets, match: str) -> None:
    with pytest.raises(SignatureError, match=match):
        provider.verify(request, secrets, NOW)


# --- what is accepted ------------------------------------------------------------------------

def test_a_delivery_signed_with_paypal_s_certificate_for_the_configured_webhook_id_is_verified(provider):
    provider.verify(delivery(), configured(), NOW)


def test_every_configured_webhook_id_is_tried_so_webhooks_can_be_rotated(provider):
    secrets = configured(webhook_ids=[OTHER_WEBHOOK_ID, WEBHOOK_ID])
    provider.verify(delivery(), secrets, NOW)
    provider.verify(delivery(webhook_id=OTHER_WEBHOOK_ID), secrets, NOW)


def test_the_certificate_is_fetched_once_per_url_and_kept(provider):
    host = certificate_host()
    url = host.url("valid") + "?kept-test"
    before = len(host.requests)
    for at in (SENT_AT, SENT_AT + 1, SENT_AT + 2):
        provider.verify(delivery(at=at, cert_url=url), configured(), NOW)
    assert len(host.requests) - before == 1


def test_a_kept_certificate_is_checked_again_at_each_request_s_time(provider):
    provider.verify(delivery(), configured(), NOW)
    later = VALID_UNTIL + timedelta(days=1)
    with pytest.raises(SignatureError, match="has expired"):
        provider.verify(delivery(at=int(later.timestamp())), configured(), later)


def test_only_a_bounded_number_of_certificate_urls_is_kept():
    provider, host = PayPalProvider(300, CertificateSource(max_kept=1)), certificate_host()
    urls = [host.url("valid") + "?bounded-a", host.url("valid") + "?bounded-b"]
    before = len(host.requests)
    for url in (urls[0], urls[1], urls[0]):
        provider.verify(delivery(cert_url=url), configured(), NOW)
    assert len(host.requests) - before == 3


# --- what is refused, with nothing fetched or stored ----------------------------------------

def test_a_delivery_for_a_webhook_id_that_is_not_configured_is_refused(provider):
    refused(provider, delivery(webhook_id=OTHER_WEBHOOK_ID), configured(), "does not match")


def test_a_body_changed_after_signing_is_refused(provider):
    signed = delivery()
    tampered = WebhookRequest(BODY.replace(b'"20.00"', b'"2000.00"'), signed.headers)
    refused(provider, tampered, configured(), "does not match")


def test_a_body_parsed_and_serialised_again_is_refused_because_the_crc_is_of_the_exact_bytes(provider):
    signed = delivery()
    reserialised = json.dumps(json.loads(BODY)).encode()
    assert json.loads(reserialised) == json.loads(BODY)
    refused(provider, WebhookRequest(reserialised, signed.headers), configured(), "does not match")


def test_a_signature_by_a_key_other_than_the_certificate_s_is_refused(provider):
    refused(provider, delivery(key="intermediate"), configured(), "does not match")


@pytest.mark.parametrize("certificate, reason", [
    ("expired", "has expired or is not valid yet"),
    ("other-ca", "does not chain to the configured PayPal CA bundle"),
    ("self-signed", "does not chain to the configured PayPal CA bundle"),
    ("not-paypal", "does not name PayPal's signing service"),
])
def test_a_certificate_that_is_not_a_current_paypal_one_from_the_configured_roots_is_refused(
    provider, certificate, reason,
):
    refused(provider, delivery(cert_url=certificate_host().url(certificate)), configured(), reason)


def test_the_shipped_bundle_does_not_trust_the_test_authority(provider):
    refused(provider, delivery(), configured(ca_pem=""), "does not chain")


@pytest.mark.parametrize("cert_url", [
    "https://api.paypal.com.attacker.example/v1/notifications/certs/CERT-1",
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "https://attacker.example/v1/notifications/certs/CERT-1",
    "http://127.0.0.1:1/v1/notifications/certs/CERT-valid",
])
def test_a_certificate_url_outside_the_configured_prefixes_is_refused_before_anything_is_fetched(
    provider, cert_url,
):
    host = certificate_host()
    before = len(host.requests)
    refused(provider, delivery(cert_url=cert_url), configured(), "not under a configured")
    assert len(host.requests) == before


def test_the_default_prefixes_admit_only_paypal_s_api_hosts_over_https(provider):
    assert PayPalSecrets().cert_url_prefixes == list(DEFAULT_CERT_URL_PREFIXES)
    assert all(prefix.startswith(("https://api.paypal.com/", "https://api-m.paypal.com/",
                                  "https://api.sandbox.paypal.com/", "https://api-m.sandbox.paypal.com/"))
               for prefix in DEFAULT_CERT_URL_PREFIXES)
    defaults = WebhookSecrets.model_validate({"paypal": {"webhook_ids": [WEBHOOK_ID], "ca_pem": paypal_secrets()["ca_pem"]}})
    refused(provider, delivery(), defaults, "not under a configured")


@pytest.mark.parametrize("disguise", [
    lambda url: url.replace("/CERT-valid", "/../../CERT-valid"),
    lambda url: url + " ",
    lambda url: url.replace("/CERT-", "\\CERT-"),
], ids=["dot-dot segment", "trailing space", "backslash"])
def test_a_certificate_url_that_is_not_a_plain_url_is_refused(provider, disguise):
    refused(provider, delivery(cert_url=disguise(certificate_host().url("valid"))), configured(),
            "not under a configured")


def test_a_prefix_must_end_at_a_path_so_that_it_cannot_match_a_longer_host_name():
    for prefix in ("https://api.paypal.com", "https://api.paypal.com/v1/notifications/certs", "ftp://api.paypal.com/"):
        document = json.dumps({"paypal": {"webhook_ids": [WEBHOOK_ID], "cert_url_prefixes": [prefix]}})
        with pytest.raises(InvalidSecretsDocument, match="paypal.cert_url_prefixes"):
            validate_document(document)


@pytest.mark.parametrize("sent, reason", [(SENT_AT - 301, "has expired"), (SENT_AT + 320, "in the future")])
def test_a_transmission_time_outside_the_tolerance_is_refused(provider, sent, reason):
    refused(provider, delivery(at=sent), configured(), reason)


def test_the_tolerance_is_the_stage_s():
    lenient = PayPalProvider(900)
    lenient.verify(delivery(at=SENT_AT - 600), configured(), NOW)


def test_no_webhook_id_configured_refuses_every_delivery(provider):
    refused(provider, delivery(), configured(webhook_ids=[]), "no PayPal webhook id is configured")
    refused(provider, delivery(), WebhookSecrets(), "no PayPal webhook id is configured")


@pytest.mark.parametrize("header", [
    "PAYPAL-TRANSMISSION-ID", "PAYPAL-TRANSMISSION-TIME", "PAYPAL-TRANSMISSION-SIG", "PAYPAL-AUTH-ALGO",
    "PAYPAL-CERT-URL",
])
def test_a_missing_paypal_header_is_refused_naming_it(provider, header):
    headers = {name: value for name, value in delivery().headers.items() if name != header.lower()}
    refused(provider, WebhookRequest(BODY, headers), configured(), f"missing {header}")


@pytest.mark.parametrize("header, value, reason", [
    ("paypal-auth-algo", "SHA1withRSA", "PAYPAL-AUTH-ALGO must be SHA256withRSA"),
    ("paypal-transmission-sig", "not base64!", "malformed PAYPAL-TRANSMISSION-SIG"),
    ("paypal-transmission-time", "yesterday", "malformed PAYPAL-TRANSMISSION-TIME"),
    ("paypal-transmission-id", "a|b", "malformed PAYPAL-TRANSMISSION-ID"),
])
def test_a_malformed_paypal_header_is_refused(provider, header, value, reason):
    request = delivery()
    refused(provider, WebhookRequest(BODY, {**request.headers, header: value}), configured(), reason)


# --- when the certificate host fails: 503, so PayPal retries -----------------------------------

@pytest.mark.parametrize("certificate", ["on a closed port", "status-500", "status-503", "status-429", "slow"])
def test_a_certificate_that_cannot_be_fetched_is_unavailable_not_a_signature_error(provider, certificate):
    closed = unreachable_prefix()
    url = closed + "CERT-valid" if certificate == "on a closed port" else certificate_host().url(certificate)
    secrets = configured(cert_url_prefixes=[closed, certificate_host().prefix])
    with pytest.raises(CertificateUnavailable) as caught:
        provider.verify(delivery(cert_url=url), secrets, NOW)
    assert (caught.value.status, caught.value.code) == (503, "unavailable")


def test_a_failed_fetch_is_not_kept_so_the_retry_fetches_again(provider):
    url = certificate_host().url("flaky") + "?not-kept-test"
    with pytest.raises(CertificateUnavailable):
        provider.verify(delivery(cert_url=url), configured(), NOW)
    provider.verify(delivery(cert_url=url), configured(), NOW)


@pytest.mark.parametrize("certificate", ["status-404", "status-301"])
def test_a_certificate_url_that_names_no_certificate_is_refused(provider, certificate):
    refused(provider, delivery(cert_url=certificate_host().url(certificate)), configured(), "names no certificate")
