"""The secrets repository reads the document into the model it is handed, and caches it."""
from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from chalicelib.errors import StorageUnavailable
from chalicelib.storage.secrets import SecretsRepository


class Keys(BaseModel):
    signing_secrets: list[str]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def put_secret(aws, name: str, document: object) -> None:
    aws.client("secretsmanager").create_secret(Name=name, SecretString=json.dumps(document))


def test_the_document_is_read_into_the_model_handed_in_and_kept_for_its_time_to_live(aws) -> None:
    put_secret(aws, "test-keys", {"signing_secrets": ["one"]})
    clock = Clock()
    repository = SecretsRepository(aws.client("secretsmanager"), "test-keys", 60, clock, document=Keys)
    assert repository.current() == Keys(signing_secrets=["one"])
    aws.client("secretsmanager").put_secret_value(
        SecretId="test-keys", SecretString=json.dumps({"signing_secrets": ["two"]}))
    clock.now = 60
    assert repository.current().signing_secrets == ["one"]
    clock.now = 61
    assert repository.current().signing_secrets == ["two"]


def test_a_document_that_does_not_fit_the_model_is_unavailable_naming_fields_not_values(aws) -> None:
    put_secret(aws, "test-bad-keys", {"signing_secrets": "whsec_not_a_list"})
    repository = SecretsRepository(aws.client("secretsmanager"), "test-bad-keys", 60, Clock(), document=Keys)
    with pytest.raises(StorageUnavailable) as raised:
        repository.current()
    assert "signing_secrets" in raised.value.message
    assert "whsec_not_a_list" not in raised.value.message
