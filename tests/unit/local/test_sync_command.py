"""`make sync`'s usage errors: refused before anything is read or fetched, exit status 2,
with a message saying what is wrong."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from local import sync

NOW = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)


def usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        sync.main(argv, now=NOW)
    assert exited.value.code == 2
    return capsys.readouterr().err


def test_a_provider_without_an_events_api_sync_is_a_usage_error(capsys) -> None:
    message = usage_error(["--provider", "adyen", "--since", "2026-11-01"], capsys)
    assert "usage: make sync PROVIDER=stripe|square SINCE=YYYY-MM-DD" in message
    assert "invalid choice: 'adyen'" in message and "'stripe', 'square'" in message


@pytest.mark.parametrize("since, problem", [
    ("yesterday", "must be a day written YYYY-MM-DD"),
    ("20261101", "must be a day written YYYY-MM-DD"),
    ("2026-11-01T00:00:00Z", "must be a day written YYYY-MM-DD"),
    ("2026-02-30", "is not a calendar day"),
    ("2026-12-02", "is in the future (today is 2026-12-01 UTC)"),
])
def test_a_since_that_is_not_a_past_day_is_a_usage_error(since: str, problem: str, capsys) -> None:
    assert problem in usage_error(["--provider", "stripe", "--since", since], capsys)


def test_a_missing_provider_or_since_is_a_usage_error(capsys) -> None:
    assert "--provider" in usage_error(["--since", "2026-11-01"], capsys)
    assert "--since" in usage_error(["--provider", "square"], capsys)


def test_today_is_a_valid_since() -> None:
    assert str(sync.parse_args(["--provider", "square", "--since", "2026-12-01"], NOW.date()).since) == "2026-12-01"
