"""`make sync` end to end: the command reads the key from the stage's secrets document,
pages through a local stand-in of the provider's API with its SDK and stores through the
webhook path, in the emulator."""
from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from chalicelib import wiring
from local import sync
from local.provider_events import stripe_events
from tests.integration.services.test_ingest import lifecycle
from tests.support.provider_api import ProviderApi, serving
from tests.support.signing import SECRETS, stripe_headers
from tests.unit.local.test_provider_events import SQUARE_KEY, STRIPE_KEY

NOW = datetime(2026, 1, 10, tzinfo=timezone.utc)


@pytest.fixture
def stage(aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The emulator's stage, its secrets document carrying the providers' API keys."""
    monkeypatch.setenv("STAGE", "local")
    put_secrets(aws, {**SECRETS, "stripe": {**SECRETS["stripe"], "api_key": STRIPE_KEY},
                      "square": {**SECRETS["square"], "api_key": SQUARE_KEY}})
    yield aws
    wiring.reset()


def put_secrets(aws, document: dict) -> None:
    aws.client("secretsmanager").put_secret_value(
        SecretId=aws.env["WEBHOOK_SECRETS_ID"], SecretString=json.dumps(document))
    wiring.reset()


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = sync.main([*argv, "--stage", "local"], now=NOW, out=out, err=err)
    wiring.reset()
    return status, out.getvalue(), err.getvalue()


def test_sync_stores_what_is_missing_prints_progress_per_page_and_a_rerun_is_all_duplicate(stage) -> None:
    history = lifecycle("pi_cmd")
    delivered = history[2]
    wiring.ingest_service().receive("stripe", delivered, stripe_headers(delivered))
    served = ProviderApi({"stripe": STRIPE_KEY}, {"stripe": [json.loads(b) for b in history]}, page_size=2)
    with serving(served) as server:
        status, out, err = run("--provider", "stripe", "--since", "2026-01-01", "--base-url", server.base_url)
        again, rerun_out, _ = run("--provider", "stripe", "--since", "2026-01-01", "--base-url", server.base_url)

    assert status == 0 and again == 0
    report = json.loads(out)
    assert (report["provider"], report["since"], report["pages"], report["events"]) == ("stripe", "2026-01-01", 3, 5)
    assert (report["new"], report["duplicate"], report["refused"]) == (4, 1, [])
    assert report["applied"] + report["stale"] + report["ignored"] == 4
    progress = [line for line in err.splitlines() if line.startswith("sync stripe: page")]
    assert [line.split(",")[0] for line in progress] == [f"sync stripe: page {n}" for n in (1, 2, 3)]
    assert all("events/s" in line for line in progress)
    assert "sync stripe since 2026-01-01: 5 events in 3 pages:" in err
    assert json.loads(rerun_out)["duplicate"] == 5
    assert len(wiring.transactions().get("stripe", "pi_cmd").events) == 5
    assert STRIPE_KEY not in out + err


def test_a_429_from_the_provider_is_waited_out(stage, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stripe_events, "RATE_LIMIT_BASE_SECONDS", 0.01)
    served = ProviderApi({"stripe": STRIPE_KEY}, {"stripe": [json.loads(lifecycle("pi_429")[0])]},
                         rate_limit={"stripe": 2})
    with serving(served) as server:
        status, out, _ = run("--provider", "stripe", "--since", "2026-01-01", "--base-url", server.base_url)
        assert len(server.requests_of("stripe")) == 3
    assert status == 0 and json.loads(out)["new"] == 1


def test_a_provider_section_without_an_api_key_is_a_clear_configuration_error(stage) -> None:
    put_secrets(stage, SECRETS)
    with serving(ProviderApi({"square": SQUARE_KEY})) as server:
        status, out, err = run("--provider", "square", "--since", "2026-01-01", "--base-url", server.base_url)
        assert server.requests == []
    assert status == 2 and out == ""
    assert "square.api_key is not set in the secrets document" in err
    assert "square section of the secrets document" in err


def test_an_event_the_webhook_path_refuses_fails_the_run_and_is_named(stage) -> None:
    bad = json.loads(lifecycle("pi_cmd_bad")[0])
    bad["data"]["object"]["currency"] = "dollars"
    with serving(ProviderApi({"stripe": STRIPE_KEY}, {"stripe": [bad]})) as server:
        status, out, err = run("--provider", "stripe", "--since", "2026-01-01", "--base-url", server.base_url)
    assert status == 1
    assert json.loads(out)["refused"][0]["id"] == bad["id"]
    assert f"refused {bad['id']}: data.object.currency" in err


def test_a_provider_failure_midway_stops_with_what_was_stored_and_how_to_continue(stage) -> None:
    events = [json.loads(body) for body in lifecycle("pi_cmd_stop")]
    served = ProviderApi({"stripe": STRIPE_KEY}, {"stripe": events}, page_size=2, revoke_key_after={"stripe": 1})
    with serving(served) as server:
        status, out, err = run("--provider", "stripe", "--since", "2026-01-01", "--base-url", server.base_url)
    assert status == 1 and out == ""
    assert "sync: stopped: stripe: the API key was refused (401)" in err
    assert "2 events in 1 pages:" in err and "rerun the same command" in err
    assert wiring.events().get("stripe", events[-1]["id"]) is not None  # the newest: page 1 stays stored


def test_a_since_beyond_the_providers_retention_is_noted(stage) -> None:
    with serving(ProviderApi({"square": SQUARE_KEY})) as server:
        status, _, err = run("--provider", "square", "--since", "2025-11-01", "--base-url", server.base_url)
    assert status == 0
    assert "square's events API keeps only the last 28 days of events" in err
