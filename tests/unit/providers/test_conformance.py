"""Every registered provider, over every fixture of its own: `tests/fixtures/<provider>/X.json`
is a request body sent as its exact bytes, `X.expected.json` the canonical event (or, for a
body holding several, the list of events) it must parse into.

A provider added to the package is held to this without being named here: it needs its
fixtures and a signer in `tests.support.signing.SIGNERS`."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from chalicelib.domain.events import CanonicalEvent, ParsedEvent
from chalicelib.errors import InvalidPayload, SignatureError
from chalicelib.providers.base import WebhookProvider, WebhookRequest
from chalicelib.providers.registry import ProviderRegistry, provider_names
from chalicelib.providers.secrets import WebhookSecrets
from tests.support.signing import FIXTURES, SIGNERS

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
SENT_AT = int(NOW.timestamp()) - 10
REDELIVERED_AT = int(NOW.timestamp()) - 5

registry = ProviderRegistry()


def fixtures_of(provider: str) -> list[Path]:
    return sorted(p for p in (FIXTURES / provider).glob("*.json") if not p.name.endswith(".expected.json"))


def expected_events(fixture: Path) -> list[CanonicalEvent]:
    expected = json.loads(fixture.with_name(fixture.name.replace(".json", ".expected.json")).read_bytes())
    return [CanonicalEvent.model_validate(event) for event in (expected if isinstance(expected, list) else [expected])]


CASES = [pytest.param(name, fixture, id=f"{name}/{fixture.stem}")
         for name in provider_names() for fixture in fixtures_of(name)]


def configured(name: str, section: dict) -> WebhookSecrets:
    return WebhookSecrets.model_validate({name: section})


def deliver(provider: WebhookProvider, body: bytes, event_id: str, at: int) -> WebhookRequest:
    return WebhookRequest.of(body, SIGNERS[provider.name].headers(body, event_id, at))


def receive(provider: WebhookProvider, request: WebhookRequest, secrets: WebhookSecrets) -> list[ParsedEvent]:
    """What ingest does before storing: verify, then parse."""
    provider.verify(request, secrets, NOW)
    return provider.parse(request)


def test_every_registered_provider_has_fixtures_with_expectations_and_a_test_signer():
    for name in provider_names():
        assert name in SIGNERS, f"tests.support.signing.SIGNERS has no signer for {name}"
        assert fixtures_of(name), f"tests/fixtures/{name}/ holds no fixture"
        for fixture in fixtures_of(name):
            assert expected_events(fixture), fixture


def test_every_fixture_directory_is_a_registered_provider():
    assert {p.name for p in FIXTURES.iterdir() if p.is_dir()} <= set(provider_names())


@pytest.mark.parametrize("name, fixture", CASES)
def test_a_fixture_signed_by_the_provider_is_accepted_and_parses_into_its_expected_events(name, fixture):
    provider, expected = registry.get(name), expected_events(fixture)
    request = deliver(provider, fixture.read_bytes(), expected[0].event_id, SENT_AT)
    parsed = receive(provider, request, configured(name, SIGNERS[name].secrets))
    assert [item.event for item in parsed] == expected
    assert {event.provider for event in expected} == {name}


@pytest.mark.parametrize("name, fixture", CASES)
def test_a_fixture_signed_with_a_key_that_is_not_configured_is_a_signature_error(name, fixture):
    provider, expected = registry.get(name), expected_events(fixture)
    request = deliver(provider, fixture.read_bytes(), expected[0].event_id, SENT_AT)
    for secrets in (configured(name, SIGNERS[name].other_secrets), WebhookSecrets()):
        with pytest.raises(SignatureError):
            provider.verify(request, secrets, NOW)


@pytest.mark.parametrize("name, fixture", CASES)
def test_a_redelivery_signed_again_later_gives_the_same_event_ids_and_events(name, fixture):
    provider, expected = registry.get(name), expected_events(fixture)
    secrets = configured(name, SIGNERS[name].secrets)
    first = receive(provider, deliver(provider, fixture.read_bytes(), expected[0].event_id, SENT_AT), secrets)
    again = receive(provider, deliver(provider, fixture.read_bytes(), expected[0].event_id, REDELIVERED_AT), secrets)
    assert [item.event.event_id for item in again] == [item.event.event_id for item in first]
    assert again == first


@pytest.mark.parametrize("name, fixture", CASES)
def test_each_event_parses_again_from_the_bytes_kept_for_replay(name, fixture):
    provider, expected = registry.get(name), expected_events(fixture)
    request = deliver(provider, fixture.read_bytes(), expected[0].event_id, SENT_AT)
    for item in receive(provider, request, configured(name, SIGNERS[name].secrets)):
        assert provider.parse_stored(item.raw, item.event.event_id) == item.event


@pytest.mark.parametrize("name", provider_names())
@pytest.mark.parametrize("malformed", ["a truncated fixture", "not json", "an array"])
def test_a_signed_malformed_body_is_invalid_payload_naming_the_body(name, malformed):
    provider, fixture = registry.get(name), fixtures_of(name)[0]
    raw = fixture.read_bytes()
    body = {"a truncated fixture": raw[: len(raw) // 2], "not json": b"not json", "an array": b"[]"}[malformed]
    request = deliver(provider, body, expected_events(fixture)[0].event_id, SENT_AT)
    with pytest.raises(InvalidPayload, match="^body: "):
        receive(provider, request, configured(name, SIGNERS[name].secrets))
