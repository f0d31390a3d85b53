"""The template's webhook secret starts as the placeholder the provider registrations derive.

The template stays static JSON (cfn-lint and both deploy paths read it as it is), so this
test is what keeps it in step when a provider is added: its failure prints the string to
put in `WebhookSecrets.Properties.SecretString`."""
from __future__ import annotations

import json

from chalicelib.providers.secrets import load_document, placeholder_document
from deploy.stage import load_template

SECRET = load_template()["Resources"]["WebhookSecrets"]["Properties"]["SecretString"]


def test_the_placeholder_secret_has_an_empty_section_for_every_registered_provider() -> None:
    expected = placeholder_document()
    assert json.loads(SECRET) == expected, f"SecretString should be {json.dumps(json.dumps(expected))}"


def test_the_placeholder_secret_is_a_document_the_app_can_read() -> None:
    assert load_document(SECRET).model_dump(mode="json") == json.loads(SECRET)
