"""The template's webhook secret: a placeholder that never changes, read by the app as every
registered provider unconfigured.

It must never change, not even to add a section for a new provider: operators replace the
value with `put-secret-value`, and a stack update whose template changes `SecretString`
writes the template's value over theirs, after which every webhook is refused. It need not
change either: a provider left out of the document gets its section's defaults."""
from __future__ import annotations

from chalicelib.providers.secrets import WebhookSecrets, load_document
from deploy.stage import load_template

SECRET = load_template()["Resources"]["WebhookSecrets"]["Properties"]["SecretString"]
PLACEHOLDER = (
    '{"stripe": {"signing_secrets": []}, "adyen": {"hmac_keys": [], "basic_auth": null}, '
    '"square": {"signature_keys": [], "notification_url": ""}, "generic": {"signing_secrets": []}}'
)


def test_the_placeholder_secret_reads_as_every_registered_provider_unconfigured() -> None:
    assert load_document(SECRET) == WebhookSecrets()


def test_the_placeholder_secret_is_the_one_every_deployed_stack_was_created_with() -> None:
    assert SECRET == PLACEHOLDER
