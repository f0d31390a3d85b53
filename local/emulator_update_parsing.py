"""Update expressions parsed once and walked cheaply in the local emulator. A patch of moto
5.2.5 (local/emulator.py refuses any other version).

Why: every webhook's transaction updates one item with a long `SET` expression whose text
is the same from one webhook to the next (only the values differ). moto re-derived the
same work per request, and for a new item twice (it validates before creating the item
and again after):

- it parsed the expression text up to three times per update (the request checks, the
  update itself), although the tree depends on the text alone;
- each validation deep-copied the parsed tree with `copy.deepcopy`, object by object in
  Python, because the validators rewrite the tree they are given;
- each of the ten validators' walks rebuilt its tuple of wanted node types at every node,
  tested it with `isinstance` against moto's abstract node classes, which goes through
  `abc`'s slow path, and called an empty hook before every child.

So: the parsed tree is cached per expression text (moto's callers only read it: the request
checks search it, and the validator copies it before rewriting); the validator copies a
cached tree by unpickling a snapshot taken when it was parsed, which builds the same objects
as `deepcopy` in C; and the walk asks "is this a node, is it one this validator processes"
once per class rather than once per node, and skips the hook where it is moto's empty one.
The walk visits the same nodes in the same order, calls the same non-empty hooks and
processes the same nodes, so every validator rewrites and refuses exactly as before. An
expression that fails to parse is not cached, so it fails the same way each time.
"""
from __future__ import annotations

import copy
import functools
import pickle  # nosec B403 # only our own snapshots, pickled in this process
import weakref
from typing import Any

from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, Node
from moto.dynamodb.parsing.expressions import UpdateExpressionParser
from moto.dynamodb.parsing.validators import Validator

PARSED_EXPRESSIONS_KEPT = 256

_snapshots: weakref.WeakKeyDictionary[Any, bytes] = weakref.WeakKeyDictionary()


def parse_once(make: Any) -> Any:
    """`UpdateExpressionParser.make`, remembering the trees of the most recent texts; each
    tree gets a pickled snapshot from which the validator copies it."""

    @functools.lru_cache(maxsize=PARSED_EXPRESSIONS_KEPT)
    def parsed(expression: str) -> Any:
        tree = make(expression)
        _snapshots[tree] = pickle.dumps(tree, pickle.HIGHEST_PROTOCOL)
        return tree

    def cached_make(cls: type, expression: str) -> Any:
        return parsed(expression)

    cached_make.__wrapped__ = make  # type: ignore[attr-defined]
    return classmethod(cached_make)


def copy_tree(tree: Any) -> Any:
    """A private copy of `tree` for a validator to rewrite: from the snapshot when it is a
    cached parse, otherwise moto's own deep copy."""
    snapshot = _snapshots.get(tree)
    return pickle.loads(snapshot) if snapshot is not None else copy.deepcopy(tree)  # nosec B301 # the bytes were pickled by this process from a parse tree


_moto_hook = DepthFirstTraverser.pre_processing_of_child


def traverse(self: Any, root: Any) -> Any:
    """moto's depth-first walk (DepthFirstTraverser.traverse_node_recursively, unchanged in
    order, hooks and rewriting), with its per-node type tests answered once per class, and
    the hook before each child skipped when the traverser keeps moto's, which does nothing."""
    wanted = self.nodes_to_be_processed()
    hook = None if type(self).pre_processing_of_child is _moto_hook else self.pre_processing_of_child
    kinds: dict[type, int] = {}  # 0: not a node; 1: a node; 2: a node this traverser processes

    def visit(node: Any, child_id: int = -1) -> Any:
        kind = type(node)
        what = kinds.get(kind)
        if what is None:
            what = kinds[kind] = (2 if issubclass(kind, wanted) else 1) if issubclass(kind, Node) else 0
        if not what:
            return node
        parent_node = node.parent
        if node.children is not None:
            for i, child_node in enumerate(node.children):
                if hook is not None:
                    hook(node, i)
                visit(child_node, i)
        if what == 2:
            node = self.process(node)
            node.parent = parent_node
            if parent_node:
                parent_node.children[child_id] = node
        return node

    return visit(root)


def validator_init(self: Any, expression: Any, expression_attribute_names: Any,
                   expression_attribute_values: Any, item: Any, table: Any) -> None:
    """moto's Validator.__init__, copying the tree with `copy_tree`."""
    self.expression_attribute_names = expression_attribute_names
    self.expression_attribute_values = expression_attribute_values
    self.item = item
    self.table = table
    self.processors = self.get_ast_processors()
    self.node_to_validate = copy_tree(expression)


def install() -> None:
    """Patch moto in this process (idempotent). Call before serving requests."""
    if not hasattr(UpdateExpressionParser.make, "__wrapped__"):
        UpdateExpressionParser.make = parse_once(UpdateExpressionParser.make)
    Validator.__init__ = validator_init
    DepthFirstTraverser.traverse = traverse
