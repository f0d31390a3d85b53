"""The emulator parses an update expression once, copies the parsed tree from a snapshot and
walks it with per-class type tests (local/emulator_update_parsing.py), and still updates
and refuses exactly as moto itself does."""
from __future__ import annotations

import copy
from typing import Any

import pytest
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser
from moto.dynamodb.parsing.executors import UpdateExpressionExecutor
from moto.dynamodb.parsing.expressions import UpdateExpressionParser
from moto.dynamodb.parsing.validators import UpdateExpressionValidator, Validator

from local import emulator_update_parsing

VALUES = {":a": {"N": "1"}, ":b": {"N": "2"}, ":c": {"S": "x"}, ":l": {"L": [{"S": "y"}]},
          ":e": {"S": ""}, ":s": {"SS": ["p"]}}
NAMES = {"#a": "a", "#b": "b", "#k": "pk"}
LONG = "SET " + ", ".join(f"f{i} = if_not_exists(f{i}, :a)" if i % 3 == 0 else f"f{i} = :b" for i in range(40))
EXPRESSIONS = [
    LONG,
    LONG + " ADD n :a REMOVE gone",
    "SET #a = :a, #b = if_not_exists(#b, :b) ADD n :a REMOVE gone",
    "SET b = b + :a, c = list_append(if_not_exists(c, :l), :l)",
    "SET m.x = :b, m.y = :c",
    "SET absent.x = :a",
    "SET b = :c + :a",
    "SET #k = :c",
    "SET a = :a, a = :b",
    "SET a = :a SET b = :b",
    "SET a = :undefined",
    "ADD s :s DELETE s :s",
    "REMOVE gone, m.x",
    "SET missing = :a",
    "SET = :a",
]


def _outcome(expression: str) -> Any:
    """What moto does with `expression` on a fresh item: the error it raises, or the item
    the update leaves (validated and executed as moto's update_item does)."""
    table = Table("t", account_id="123456789012", region="us-east-1",
                  schema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                  attr=[{"AttributeName": "pk", "AttributeType": "S"}])
    item = Item(DynamoType({"S": "k"}), None, {"pk": {"S": "k"}, "b": {"N": "5"}, "gone": {"S": "y"},
                                               "m": {"M": {"x": {"N": "0"}}}, "s": {"SS": ["p", "q"]}})
    try:
        tree = UpdateExpressionParser.make(expression)
        validated = UpdateExpressionValidator(tree, expression_attribute_names=NAMES,
                                              expression_attribute_values=VALUES, item=item, table=table).validate()
        validated.normalize()
        UpdateExpressionExecutor(validated, item, NAMES).execute()
    except Exception as error:  # noqa: BLE001 - the outcome is which error, if any
        return type(error).__name__, str(error)
    return item.to_json()


@pytest.fixture
def patched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(UpdateExpressionParser, "make", emulator_update_parsing.parse_once(UpdateExpressionParser.make))
    monkeypatch.setattr(Validator, "__init__", emulator_update_parsing.validator_init)
    monkeypatch.setattr(DepthFirstTraverser, "traverse", emulator_update_parsing.traverse)


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_an_update_expression_updates_or_is_refused_as_moto_itself_does(expression: str, request: Any) -> None:
    moto_own = _outcome(expression)
    request.getfixturevalue("patched")

    assert _outcome(expression) == moto_own
    assert _outcome(expression) == moto_own  # again, now from the cached parse


def test_the_cases_cover_updates_and_refusals_of_each_stage() -> None:
    outcomes = [_outcome(expression) for expression in EXPRESSIONS]
    refusals = {outcome[0] for outcome in outcomes if isinstance(outcome, tuple)}

    assert sum(isinstance(outcome, dict) for outcome in outcomes) >= 5
    assert {"InvalidTokenException", "AttributeIsReservedKeyword", "TooManyClauses", "DuplicateUpdateExpression",
            "UpdateHashRangeKeyException", "ExpressionAttributeValueNotDefined",
            "InvalidUpdateExpressionInvalidDocumentPath", "IncorrectOperandType"} <= refusals


def test_a_text_is_parsed_once_and_each_validator_gets_its_own_copy(patched: None) -> None:
    first = UpdateExpressionParser.make(LONG)

    assert UpdateExpressionParser.make(LONG) is first
    copied = emulator_update_parsing.copy_tree(first)
    assert copied is not first
    assert copied.children[0] is not first.children[0]
    assert _structure(copied) == _structure(copy.deepcopy(first))


def test_an_expression_that_fails_to_parse_fails_again_each_time(patched: None) -> None:
    for _ in range(2):
        with pytest.raises(Exception, match="Invalid UpdateExpression"):
            UpdateExpressionParser.make("SET = :a")


def _structure(node: Any) -> Any:
    """A node's class, attributes and children, recursively (parents as class names)."""
    if not hasattr(node, "children"):
        return node
    attributes = {name: value for name, value in vars(node).items() if name not in ("children", "parent")}
    return (type(node).__name__, repr(attributes), type(node.parent).__name__,
            [_structure(child) for child in node.children or []])
