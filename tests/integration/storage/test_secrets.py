"""The secrets repository reads the document with the parser it is handed, and caches it."""
from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, ValidationError

from chalicelib.errors import StorageUnavailable
from chalicelib.storage.secrets import SecretsRepository


class Keys(BaseModel):
    signing_secrets: list[str]


def parse_keys(text: str) -> Keys:
    try:
        return Keys.model_validate_json(text)
    except ValidationError as exc:
        raise ValueError(f"invalid at {', '.join(str(e['loc'][0]) for e in exc.errors())}") from None


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def put_secret(aws, name: str, document: object) -> None:
    aws.client("secretsmanager").create_secret(Name=name, SecretString=json.dumps(document))


def test_the_document_is_read_by_the_parser_handed_in_and_kept_for_its_time_to_live(aws) -> None:
    put_secret(aws, "test-keys", {"signing_secrets": ["one"]})
    clock = Clock()
    repository = SecretsRepository(aws.client("secretsmanager"), "test-keys", 60, clock, parse=parse_keys)
    assert repository.current() == Keys(signing_secrets=["one"])
    aws.client("secretsmanager").put_secret_value(
        SecretId="test-keys", SecretString=json.dumps({"signing_secrets": ["two"]}))
    clock.now = 60
    assert repository.current().signing_secrets == ["one"]
    clock.now = 61
    assert repository.current().signing_secrets == ["two"]


def test_a_document_the_parser_refuses_is_unavailable_with_the_parsers_message(aws) -> None:
    put_secret(aws, "test-bad-keys", {"signing_secrets": "whsec_not_a_list"})
    repository = SecretsRepository(aws.client("secretsmanager"), "test-bad-keys", 60, Clock(), parse=parse_keys)
    with pytest.raises(StorageUnavailable) as raised:
        repository.current()
    assert "signing_secrets" in raised.value.message
    assert "whsec_not_a_list" not in raised.value.message
