"""Write units the permanent dedupe key costs (issue 18, item 1).

Adyen and Square webhooks also put a `seen#<provider>#<event_id>` item, with no TTL, in the
same TransactWriteItems as the event item and the transaction's change. This ingests the
repository's Adyen and Square fixtures (moto in-process, `mock_aws`), captures each
TransactWriteItems request and reads the transaction item back, then prices every item by
DynamoDB's documented size rules (attribute names and values in bytes; 1 write unit per
started KB; twice that inside a transaction) with and without the seen item.

Run: `.venv/bin/python benchmarks/dedupe_cost.py` (or `make bench`)."""
from __future__ import annotations

import contextlib
import io
import logging
import math
import warnings
import os
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from benchmarks.support.offline_aws import use_in_process_moto  # noqa: E402

use_in_process_moto()

from moto import mock_aws  # noqa: E402

from local import provision  # noqa: E402
from tests.support.signing import fixture_bytes, square_headers  # noqa: E402


def value_size(value: dict[str, Any]) -> int:
    """DynamoDB's item size rules for one attribute value."""
    (kind, inner), = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "B":
        return len(inner)
    if kind == "N":
        return math.ceil(len(inner.lstrip("-").replace(".", "")) / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in inner.items())
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: v}) for v in inner)
    raise ValueError(kind)


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def units(size: int) -> int:
    return 2 * math.ceil(size / 1024)  # transactional writes cost twice


def main() -> None:
    with mock_aws():
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")  # moto's notes on resources it skips
            logging.getLogger("moto").setLevel(logging.ERROR)
            outputs = provision.provision(None, "local", REPO / "local" / "secrets.json")  # type: ignore[arg-type]
        os.environ.update(EVENTS_TABLE=outputs["EventsTableName"],
                          TRANSACTIONS_TABLE=outputs["TransactionsTableName"],
                          WEBHOOK_SECRETS_ID=outputs["WebhookSecretsId"])
        from chalicelib import wiring

        wiring.reset()
        client = wiring.aws_client("dynamodb")
        captured: list[dict[str, Any]] = []
        client.meta.events.register("before-parameter-build.dynamodb.TransactWriteItems",
                                    lambda params, **_: captured.append(params))
        cases = [("adyen", "AUTHORISATION_success_true", {"Content-Type": "application/json"}),
                 ("square", "payment.updated", None)]
        print("Write units per webhook (transactional: 2 per started KB of each item)")
        for provider, fixture, headers in cases:
            body = fixture_bytes(provider, fixture)
            captured.clear()
            wiring.ingest_service().receive(provider, body, headers or square_headers(body))
            (request,) = captured
            puts = [op["Put"]["Item"] for op in request["TransactItems"] if "Put" in op]
            event, seen = puts[0], puts[1]
            pk = event["transaction"]["S"].replace("/", "#", 1)
            stored = client.get_item(TableName=outputs["TransactionsTableName"], Key={"pk": {"S": pk}})["Item"]
            before = units(item_size(event)) + units(item_size(stored))
            after = before + units(item_size(seen))
            print(f"  {provider} {fixture}: event item {item_size(event)} B, transaction item "
                  f"{item_size(stored)} B, seen item {item_size(seen)} B; "
                  f"{before} -> {after} write units (+{after - before}, +{(after - before) / before:.0%})")
        print("  stripe and generic (signed timestamps): no seen item, unchanged")
    wiring.reset()


if __name__ == "__main__":
    main()
