"""Every forgery of the attack matrix (tests/support/attacks.py) is rejected as the contract
says, and nothing of it is stored: after all of a provider's attacks, every table of the
stage is still empty; then the genuine delivery they were made from is accepted, so the
matrix cannot pass by sending garbage. `make reliability` prints the matrix."""
from __future__ import annotations

import json

import pytest

from tests.support.attacks import MATRIX, attacks_for, table
from tests.support.in_process import trust_test_paypal
from tests.support.report import publish

OUTCOMES: dict[str, dict[str, str]] = {}


def stored_items(aws) -> dict[str, int]:
    dynamodb = aws.client("dynamodb")
    return {name: dynamodb.scan(TableName=name, Select="COUNT")["Count"]
            for name in dynamodb.list_tables()["TableNames"]}


@pytest.fixture
def stage(client, aws):
    trust_test_paypal(aws.client("secretsmanager"), aws.env["WEBHOOK_SECRETS_ID"])
    return client


@pytest.mark.parametrize("provider", list(MATRIX))
def test_every_forged_delivery_is_rejected_and_stores_nothing_while_the_genuine_one_is_accepted(
        stage, aws, provider: str) -> None:
    (body, headers), attacks = attacks_for(provider)
    row = OUTCOMES.setdefault(provider, {})
    for attack in attacks:
        if attack.delivery is None:
            row[attack.name] = "n/a"
            continue
        response = stage.http.post(f"/webhooks/{provider}", body=attack.delivery[0], headers=attack.delivery[1])
        answer = (response.status_code, json.loads(response.body).get("error"))
        assert answer == (attack.expected.status, attack.expected.error), (attack.name, response.body[:300])
        row[attack.name] = f"{response.status_code} rejected"
    assert set(stored_items(aws).values()) <= {0}, stored_items(aws)
    genuine = stage.http.post(f"/webhooks/{provider}", body=body, headers=headers)
    assert genuine.status_code == 200, genuine.body[:300]
    assert sum(stored_items(aws).values()) > 0
    if len(OUTCOMES) == len(MATRIX):
        publish("signature attack matrix (each rejected with nothing stored; the genuine delivery accepted)",
                table(OUTCOMES))
