"""The emulator checks an update expression once at its root (local/emulator_expressions.py)
and accepts and refuses exactly what moto's own validators do."""
from __future__ import annotations

from typing import Any

import pytest
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.parsing.expressions import UpdateExpressionParser
from moto.dynamodb.parsing.validators import (
    ActionCountValidator,
    OverlappingPathsValidator,
    UpdateExpressionValidator,
)

from local.emulator_expressions import at_the_root_only

VALUES = {":a": {"N": "1"}, ":b": {"N": "2"}, ":c": {"S": "x"}}
NAMES = {"#a": "a", "#b": "b"}
EXPRESSIONS = [
    "SET a = :a, b = :b, c = :c",
    "SET #a = :a, #b = if_not_exists(#b, :b) ADD n :a REMOVE old",
    "SET a = :a SET b = :b",
    "SET a = :a, b = :b ADD n :a ADD m :b",
    "SET a = :a, a = :b",
    "SET #a = :a, a = :b",
    "SET m.x = :a, m = :c",
    "SET a = :a, b = :b, c = :c REMOVE a",
]


def _verdict(expression: str) -> str:
    table = Table("t", account_id="123456789012", region="us-east-1",
                  schema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                  attr=[{"AttributeName": "pk", "AttributeType": "S"}])
    item = Item(DynamoType({"S": "k"}), None, {"pk": {"S": "k"}, "b": {"N": "5"}, "old": {"S": "y"},
                                               "m": {"M": {"x": {"N": "0"}}}})
    try:
        UpdateExpressionValidator(UpdateExpressionParser.make(expression), expression_attribute_names=NAMES,
                                  expression_attribute_values=VALUES, item=item, table=table).validate()
    except Exception as error:  # noqa: BLE001 - the verdict is which error, if any
        return type(error).__name__
    return "valid"


def _patched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ActionCountValidator, "traverse", at_the_root_only(ActionCountValidator.verify_action_counts))
    monkeypatch.setattr(OverlappingPathsValidator, "traverse",
                        at_the_root_only(OverlappingPathsValidator.check_for_overlapping_paths))


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_an_update_expression_is_accepted_or_refused_as_moto_itself_does(
        expression: str, monkeypatch: pytest.MonkeyPatch) -> None:
    moto_own = _verdict(expression)
    _patched(monkeypatch)

    assert _verdict(expression) == moto_own


def test_the_cases_cover_valid_expressions_and_both_checks_refusals() -> None:
    verdicts: set[Any] = {_verdict(expression) for expression in EXPRESSIONS}

    assert {"valid", "TooManyClauses", "DuplicateUpdateExpression"} <= verdicts
