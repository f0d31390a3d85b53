"""`make console STAGE=...` (local/console.py) finds the stage's API the way the deploy paths
record it, and refuses to start without a URL or credentials."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import botocore.session
import pytest

from local.console import ConsoleSetupError, api_region, build_upstream, deployed_api_url

URL = "https://abc123.execute-api.eu-central-1.amazonaws.com/api/"


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., botocore.session.Session]:
    """A real botocore session that sees only the credentials and region a test gives it."""
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    def build(key: str | None = None, region: str | None = None) -> botocore.session.Session:
        if key:
            monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
            monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
        if region:
            monkeypatch.setenv("AWS_DEFAULT_REGION", region)
        return botocore.session.Session()
    return build


def test_the_api_url_comes_from_chalices_record_of_the_deploy(tmp_path: Path) -> None:
    (tmp_path / "prod.json").write_text(json.dumps({"resources": [
        {"name": "api_handler", "resource_type": "lambda_function"},
        {"name": "rest_api", "resource_type": "rest_api", "rest_api_id": "abc123", "rest_api_url": URL}]}))
    assert deployed_api_url("prod", tmp_path) == URL
    assert deployed_api_url("dev", tmp_path) is None


def test_requests_are_signed_for_the_region_in_the_api_host_name(session) -> None:
    assert api_region(URL, session(region="us-east-1")) == "eu-central-1"
    assert api_region("https://console.example.org/api", session(region="us-east-1")) == "us-east-1"


def test_without_a_region_it_asks_for_one(session) -> None:
    with pytest.raises(ConsoleSetupError, match="region"):
        api_region("https://console.example.org/api", session())


def test_the_upstream_signs_with_the_sessions_current_credentials(session) -> None:
    upstream = build_upstream("prod", URL, None, session(key="AKIDENV"))
    assert (upstream.api_url, upstream.region) == (URL, "eu-central-1")
    assert upstream.credentials().access_key == "AKIDENV"
    assert build_upstream("dev", URL, "eu-west-1", session(key="AKIDENV")).region == "eu-west-1"


def test_without_credentials_it_says_how_to_get_them(session) -> None:
    with pytest.raises(ConsoleSetupError, match="AWS_PROFILE"):
        build_upstream("prod", URL, None, session())
