"""The local secrets file is checked against the registered providers before it is seeded."""
from __future__ import annotations

import json

import pytest

from local.provision import DEFAULT_SECRETS_FILE, ProvisionError, read_secrets_file


def test_the_committed_local_secrets_file_is_a_valid_secrets_document():
    assert json.loads(read_secrets_file(DEFAULT_SECRETS_FILE))["stripe"]["signing_secrets"]


def test_a_file_with_a_misspelt_provider_is_refused_before_anything_is_seeded(tmp_path):
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"strpie": {"signing_secrets": ["whsec_x"]}}))
    with pytest.raises(ProvisionError, match="unknown provider 'strpie'"):
        read_secrets_file(path)


def test_a_file_with_a_wrongly_typed_field_is_refused_naming_it(tmp_path):
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"square": {"signature_keys": "one-key"}}))
    with pytest.raises(ProvisionError, match="square.signature_keys"):
        read_secrets_file(path)


def test_a_missing_file_is_refused_naming_it(tmp_path):
    with pytest.raises(ProvisionError, match="cannot read the secrets file"):
        read_secrets_file(tmp_path / "absent.json")
