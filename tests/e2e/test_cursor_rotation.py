"""Pagination survives secret rotation (contract section 2: a cursor this service issued
keeps working). Cursors are signed with a key of their own, so rotating a webhook secret
does not touch them, and after the cursor key itself is rotated a cursor signed with the
previous key is still accepted (one rotation back, as Secrets Manager keeps it)."""
from __future__ import annotations

import json

from chalicelib import wiring
from tests.support.signing import SECRETS, payment_intent, stripe_event, stripe_headers

CURSOR_KEY_ID = "payment-webhooks-local-cursor-key"


def first_page_cursor(client) -> str:
    for n in range(2):
        body = stripe_event(f"evt_page_{n}", "payment_intent.succeeded", 1767261600 + n,
                            payment_intent(f"pi_page_{n}", "succeeded", merchant="m-pages"))
        assert client.http.post("/webhooks/stripe", headers=stripe_headers(body), body=body).status_code == 200
    page = client.http.get("/transactions?merchant_id=m-pages&limit=1").json_body
    assert page["next_cursor"]
    return page["next_cursor"]


def second_page(client, cursor: str):
    return client.http.get(f"/transactions?merchant_id=m-pages&limit=1&cursor={cursor}")


def new_container() -> None:
    """What a fresh Lambda container sees: nothing cached from before the rotation."""
    wiring.reset()


def test_a_cursor_issued_before_a_webhook_secret_rotation_still_pages(client, aws) -> None:
    cursor = first_page_cursor(client)
    rotated = {**SECRETS, "stripe": {"signing_secrets": ["whsec_rotated_in", *SECRETS["stripe"]["signing_secrets"]]}}
    aws.client("secretsmanager").put_secret_value(
        SecretId=aws.outputs["WebhookSecretsId"], SecretString=json.dumps(rotated))
    new_container()
    response = second_page(client, cursor)
    assert response.status_code == 200, response.body
    assert [item["id"] for item in response.json_body["items"]] == ["pi_page_0"]


def test_a_cursor_signed_with_the_previous_cursor_key_is_accepted_after_a_rotation(client, aws) -> None:
    cursor = first_page_cursor(client)
    aws.client("secretsmanager").put_secret_value(SecretId=CURSOR_KEY_ID, SecretString="rotated-cursor-key-1")
    new_container()
    response = second_page(client, cursor)
    assert response.status_code == 200, response.body
    assert [item["id"] for item in response.json_body["items"]] == ["pi_page_0"]


def test_a_cursor_two_cursor_key_rotations_old_is_refused(client, aws) -> None:
    cursor = first_page_cursor(client)
    for n in range(2):
        aws.client("secretsmanager").put_secret_value(SecretId=CURSOR_KEY_ID, SecretString=f"rotated-cursor-key-{n}")
    new_container()
    response = second_page(client, cursor)
    assert (response.status_code, response.json_body["error"]) == (400, "invalid_request")
