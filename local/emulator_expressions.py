"""Update expressions checked once per expression in the local emulator, not once per
sub-expression. A patch of moto 5.2.5 (local/emulator.py refuses any other version).

Why: moto parses `SET a = :a, b = :b, ...` into a nested tree with an UpdateExpression node
per action, and two of its validators (at most one clause of each kind; no two actions on
overlapping paths) run their whole-subtree search at every such node: quadratic in the
number of actions. The app's transaction update sets a few dozen attributes, so these two
checks were the largest cost of a webhook in the emulator. Both checks are monotone (a
subtree's clauses and paths are part of the root's), so checking the root alone accepts
and refuses exactly the same expressions; only which duplicates an error message names
can differ when an expression repeats several.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.dynamodb.parsing.ast_nodes import UpdateExpression
from moto.dynamodb.parsing.validators import ActionCountValidator, OverlappingPathsValidator


def at_the_root_only(check: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """A traverser's `traverse` that applies its whole-expression `check` to the root."""

    def traverse(self: Any, node: Any) -> Any:
        return check(self, node) if isinstance(node, UpdateExpression) else node

    traverse.__wrapped__ = check  # type: ignore[attr-defined]
    return traverse


def install() -> None:
    """Patch moto in this process (idempotent). Call before serving requests."""
    for validator, check in ((ActionCountValidator, ActionCountValidator.verify_action_counts),
                             (OverlappingPathsValidator, OverlappingPathsValidator.check_for_overlapping_paths)):
        if not hasattr(validator.traverse, "__wrapped__"):
            validator.traverse = at_the_root_only(check)
