"""Sign a webhook body the way its provider does and post it to the local API.

The README's "Try it": a fixture of `tests/fixtures/<provider>/` (or any body), signed with
the local stage's dev-only secrets (`local/secrets.json`, or `LOCAL_SECRETS_FILE`), sent
as its exact bytes. The provider is the name of the file's folder. Adyen bodies carry
their own signatures (the fixtures are signed with the key the local secrets configure),
so they are sent unchanged. Never deployed.

Run: `.venv/bin/python -m local.send_fixture tests/fixtures/stripe/payment_intent.succeeded.json
[--url http://127.0.0.1:8000] [--event-id ID]` (`--event-id` is the generic provider's
`webhook-id`; it defaults to one derived from the file name, so sending a file twice shows
`duplicate`)."""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from local.provision import secrets_file_from_env

JSON = {"Content-Type": "application/json"}


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def signed_headers(provider: str, body: bytes, secrets: dict[str, Any], now: int,
                   event_id: str) -> dict[str, str]:
    """The headers `provider` would send with `body` at unix time `now`."""
    if provider == "stripe":
        secret = secrets["stripe"]["signing_secrets"][0].encode()
        signature = _hmac(secret, f"{now}.".encode() + body).hex()
        return {**JSON, "Stripe-Signature": f"t={now},v1={signature}"}
    if provider == "square":
        square = secrets["square"]
        message = square["notification_url"].encode() + body
        signature = base64.b64encode(_hmac(square["signature_keys"][0].encode(), message)).decode()
        return {**JSON, "x-square-hmacsha256-signature": signature}
    if provider == "generic":
        key = base64.b64decode(secrets["generic"]["signing_secrets"][0].removeprefix("whsec_"))
        signature = base64.b64encode(_hmac(key, f"{event_id}.{now}.".encode() + body)).decode()
        return {**JSON, "webhook-id": event_id, "webhook-timestamp": str(now),
                "webhook-signature": f"v1,{signature}"}
    if provider == "adyen":
        return dict(JSON)
    raise ValueError(f"no signing scheme for provider {provider!r}")


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # nosec B310 # the URL is the local API the developer named (http)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="a body, e.g. tests/fixtures/stripe/charge.refunded.json")
    parser.add_argument("--url", default=f"http://127.0.0.1:{os.environ.get('PORT', '8000')}")
    parser.add_argument("--event-id", help="generic only: the webhook-id (default: from the file name)")
    args = parser.parse_args(argv)
    provider = args.file.resolve().parent.name
    body = args.file.read_bytes()
    secrets = json.loads(secrets_file_from_env().read_text(encoding="utf-8"))
    event_id = args.event_id or f"try-{args.file.stem}"
    headers = signed_headers(provider, body, secrets, int(time.time()), event_id)
    status, text = post(f"{args.url.rstrip('/')}/webhooks/{provider}", body, headers)
    print(status, text)
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
